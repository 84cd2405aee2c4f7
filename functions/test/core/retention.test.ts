import fc from 'fast-check';
import type { Snapshot } from '../../src/core/model';
import { DEFAULT_RETENTION, isoWeek, localDate, planRetention, RetentionPolicy } from '../../src/core/snapshots/retention';
import { contactsChunk, createHarness, describeChunk } from '../fakes/engine-harness';

const DAY = 86_400_000;

function snap(id: string, createdAt: number, deviceId = 'd', types: Snapshot['types'] = ['contacts']): Snapshot {
  return {
    id, uid: 'u', jobId: id, deviceId, parentId: null, types, createdAt,
    manifestRef: 'a'.repeat(64), totals: { items: 0, skippedItems: 0, chunks: 0, originalBytes: 0, storedBytes: 0 }, byType: {}, health: null,
  };
}

/** One snapshot a day at 02:00 UTC through 2025. */
function yearOfDailies(): Snapshot[] {
  const start = Date.UTC(2025, 0, 1, 2);
  return Array.from({ length: 365 }, (_, i) => snap(new Date(start + i * DAY).toISOString().slice(0, 10), start + i * DAY));
}

describe('retention', () => {
  it('defaults are 3 last, 7 daily, 4 weekly, 12 monthly', () => {
    expect(DEFAULT_RETENTION).toEqual({ keepLast: 3, keepDaily: 7, keepWeekly: 4, keepMonthly: 12 });
    expect(() => RetentionPolicy.parse({ keepLast: 0 })).toThrow();
  });

  it('computes ISO weeks at year boundaries', () => {
    expect(isoWeek(2025, 12, 29)).toEqual({ year: 2026, week: 1 });
    expect(isoWeek(2025, 12, 28)).toEqual({ year: 2025, week: 52 });
    expect(isoWeek(2021, 1, 3)).toEqual({ year: 2020, week: 53 });
    expect(isoWeek(2024, 12, 30)).toEqual({ year: 2025, week: 1 });
  });

  it('buckets by the local date in the user’s time zone', () => {
    const at = Date.UTC(2025, 2, 1, 3); // 03:00 UTC on 1 March = still 28 Feb in New York
    expect(localDate(at, 'UTC')).toEqual({ year: 2025, month: 3, day: 1 });
    expect(localDate(at, 'America/New_York')).toEqual({ year: 2025, month: 2, day: 28 });
  });

  it('keeps exactly what the default policy says over a year of daily backups', () => {
    const plan = planRetention(yearOfDailies());
    // Monthly: the last day of Jan..Nov (Dec 31 is kept as daily too). Weekly: the newest day of
    // ISO weeks 2026-W01 (Dec 31), 2025-W52 (Dec 28), W51 (Dec 21), W50 (Dec 14).
    // Daily: Dec 25..31. Last 3: Dec 29..31.
    expect(plan.keep.map((k) => k.snapshot.id).sort()).toEqual([
      '2025-01-31', '2025-02-28', '2025-03-31', '2025-04-30', '2025-05-31', '2025-06-30', '2025-07-31', '2025-08-31',
      '2025-09-30', '2025-10-31', '2025-11-30', '2025-12-14', '2025-12-21', '2025-12-25', '2025-12-26', '2025-12-27',
      '2025-12-28', '2025-12-29', '2025-12-30', '2025-12-31',
    ]);
    expect(plan.forget).toHaveLength(345);
    expect(plan.keep.find((k) => k.snapshot.id === '2025-12-31')?.reasons).toEqual(['last 1', 'daily 2025-12-31', 'weekly 2026-W1', 'monthly 2025-12']);
  });

  it('applied after each daily backup for a year (injected clock), it keeps the same set', () => {
    let kept: Snapshot[] = [];
    for (const s of yearOfDailies()) kept = planRetention([...kept, s]).keep.map((k) => k.snapshot);
    expect(kept.map((s) => s.id).sort()).toEqual(planRetention(yearOfDailies()).keep.map((k) => k.snapshot.id).sort());
  });

  it('properties: partitions the input, keeps the newest, and keeps at most one per bucket and rule', () => {
    const policy = fc.record({ keepLast: fc.integer({ min: 1, max: 5 }), keepDaily: fc.integer({ min: 0, max: 10 }), keepWeekly: fc.integer({ min: 0, max: 6 }), keepMonthly: fc.integer({ min: 0, max: 14 }) });
    const times = fc.uniqueArray(fc.integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2026, 0, 1) }), { minLength: 1, maxLength: 120 });
    fc.assert(
      fc.property(policy, times, (p, ts) => {
        const snapshots = ts.map((t, i) => snap(`s${i}`, t));
        const plan = planRetention(snapshots, p);
        const keptIds = new Set(plan.keep.map((k) => k.snapshot.id));
        expect(keptIds.size + plan.forget.length).toBe(snapshots.length);
        expect(plan.forget.every((s) => !keptIds.has(s.id))).toBe(true);
        const newest = [...snapshots].sort((a, b) => b.createdAt - a.createdAt)[0] as Snapshot;
        expect(keptIds.has(newest.id)).toBe(true);
        expect(keptIds.size).toBeLessThanOrEqual(p.keepLast + p.keepDaily + p.keepWeekly + p.keepMonthly);
        expect(plan.keep.every((k) => k.reasons.length > 0)).toBe(true);
        for (const rule of ['daily', 'weekly', 'monthly'] as const) {
          const buckets = plan.keep.flatMap((k) => k.reasons.filter((r) => r.startsWith(rule)));
          expect(new Set(buckets).size).toBe(buckets.length);
        }
        // No forgotten snapshot is newer than a kept one of its own day (the newest per day wins).
        for (const f of plan.forget) {
          const d = localDate(f.createdAt, 'UTC');
          const sameDayKeptOlder = plan.keep.some((k) => {
            const kd = localDate(k.snapshot.createdAt, 'UTC');
            return kd.year === d.year && kd.month === d.month && kd.day === d.day && k.snapshot.createdAt < f.createdAt && k.reasons.some((r) => r.startsWith('daily'));
          });
          expect(sameDayKeptOlder).toBe(false);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('groups by device and type: a tablet’s frequent backups never evict the phone’s only snapshot (regression)', () => {
    const t0 = Date.UTC(2025, 5, 1, 2);
    const phone = snap('phone-full', t0, 'phone', ['contacts', 'chats']);
    const tablet = Array.from({ length: 40 }, (_, i) => snap(`tablet-${i}`, t0 + (i + 1) * 3_600_000, 'tablet', ['deviceInfo']));
    const plan = planRetention([phone, ...tablet], { keepLast: 3, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 });
    expect(plan.keep.map((k) => k.snapshot.id)).toEqual(['tablet-39', 'tablet-38', 'tablet-37', 'phone-full']);
    expect(plan.keep.find((k) => k.snapshot.id === 'phone-full')?.reasons).toEqual(['phone/contacts: last 1', 'phone/chats: last 1']);
  });

  it('two devices, two type sets, a year of mixed backups: every device x type keeps its newest, daily, weekly and monthly', () => {
    const start = Date.UTC(2025, 0, 1, 2);
    const all: Snapshot[] = [];
    for (let day = 0; day < 365; day++) {
      const at = start + day * DAY;
      all.push(snap(`phone-dev-${day}`, at, 'phone', ['deviceInfo']));
      if (day % 3 === 0) all.push(snap(`phone-full-${day}`, at + 60_000, 'phone', ['contacts', 'chats', 'deviceInfo']));
      if (day % 7 === 0) all.push(snap(`tablet-media-${day}`, at + 120_000, 'tablet', ['media']));
      if (day < 200) all.push(snap(`tablet-contacts-${day}`, at + 180_000, 'tablet', ['contacts']));
    }
    const kept = new Set(planRetention(all).keep.map((k) => k.snapshot.id));
    for (const [device, type] of [['phone', 'deviceInfo'], ['phone', 'contacts'], ['phone', 'chats'], ['tablet', 'media'], ['tablet', 'contacts']] as const) {
      const group = planRetention(all.filter((s) => s.deviceId === device && s.types.includes(type)));
      // Whatever the other groups do, everything this group's own plan keeps is kept.
      for (const k of group.keep) expect(kept.has(k.snapshot.id)).toBe(true);
    }
    // The tablet's contacts stopped in July: its newest contacts snapshot is still kept.
    expect(kept.has('tablet-contacts-199')).toBe(true);
    expect(kept.has('tablet-media-364')).toBe(true);
    expect(kept.has('phone-full-363')).toBe(true);
  });

  it('property: no device x type ever loses its newest snapshot', () => {
    const devices = ['phone', 'tablet', 'watch'];
    const types = ['contacts', 'chats', 'media', 'deviceInfo'] as const;
    const snapshot = fc.record({
      at: fc.integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2026, 0, 1) }),
      device: fc.constantFrom(...devices),
      types: fc.subarray([...types], { minLength: 1 }),
    });
    const policy = fc.record({ keepLast: fc.integer({ min: 1, max: 4 }), keepDaily: fc.integer({ min: 0, max: 5 }), keepWeekly: fc.integer({ min: 0, max: 3 }), keepMonthly: fc.integer({ min: 0, max: 4 }) });
    fc.assert(
      fc.property(fc.array(snapshot, { minLength: 1, maxLength: 80 }), policy, (specs, p) => {
        const snapshots = specs.map((x, i) => snap(`s${i}`, x.at, x.device, x.types));
        const kept = new Set(planRetention(snapshots, p).keep.map((k) => k.snapshot.id));
        for (const device of devices) {
          for (const type of types) {
            const newest = snapshots.filter((s) => s.deviceId === device && s.types.includes(type)).sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1))[0];
            if (newest) expect(kept.has(newest.id)).toBe(true);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('finalize applies the policy after each backup: forgotten snapshot records are deleted', async () => {
    const h = createHarness();
    h.deps.retention = { keepLast: 2, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 };
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      h.clock.advance(DAY);
      const bytes = contactsChunk([`c${i}`]);
      const { job } = await h.call('createBackupJob', 'alice', { deviceId: 'p', types: ['contacts'] });
      await h.call('registerChunks', 'alice', { jobId: job.id, chunks: [describeChunk('contacts', bytes, 1)] });
      const { uploadUrl } = await h.call('beginChunkUpload', 'alice', { jobId: job.id, chunkId: describeChunk('contacts', bytes, 1).id });
      await h.upload(uploadUrl as string, bytes);
      await h.call('commitUpload', 'alice', { jobId: job.id, chunkCount: 1 });
      await h.drain();
      ids.push(`snap_${job.id}`);
    }
    const left = (await h.store.listSnapshots({ uid: 'alice' })).items.map((s) => s.id);
    expect(left).toEqual([ids[2], ids[1]]);
  });
});
