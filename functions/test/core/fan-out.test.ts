/**
 * Fan-out instead of loops (docs/firebase.md, "Capacity"): the dispatcher lists due schedules in
 * page tasks and dispatches them in batch tasks; a job that ends enqueues its user's maintenance
 * (retention, GC). Each is checked for exactly-once effects under repeats and crashes.
 */
import { startDispatchRun, dispatchPage, batchDelaySeconds, DISPATCH_BATCH_SIZE, DISPATCH_PAGE_SIZE, DISPATCH_SPREAD_SECONDS } from '../../src/core/schedules/dispatch-pages';
import { runMaintenanceTask, scheduleUserMaintenance } from '../../src/core/maintenance';
import { uploadPrefix } from '../../src/core/keys';
import { INLINE_CLEANUP_MS } from '../../src/core/steps/job-cleanup';
import { BackupOptions, type Schedule } from '../../src/core/model';
import { SCALE_CAPACITY } from '../../src/core/scale-capacity';
import { contactsChunk, createHarness, describeChunk, type Harness } from '../fakes/engine-harness';

function schedule(i: number, nextRunAt: number): Schedule {
  return {
    id: `sch-${String(i).padStart(6, '0')}`, uid: `u${i % 997}`, deviceId: 'phone', kind: 'nightly', types: ['contacts'], options: BackupOptions.parse({}),
    timeZone: 'UTC', everyHours: null, cron: null, enabled: true, nextRunAt, activeJobId: null, lastRunAt: null, createdAt: 0, updatedAt: 0,
  };
}

async function seed(h: Harness, count: number, at: number): Promise<void> {
  for (let i = 0; i < count; i += 400) {
    await h.store.runTransaction(async (tx) => {
      for (let j = i; j < Math.min(count, i + 400); j++) tx.setSchedule(schedule(j, at));
    });
  }
}

/** Every schedule dispatched once: moved past `due`, its run's job there and its own. */
async function expectAllDispatched(h: Harness, count: number, due: number): Promise<void> {
  const problems: string[] = [];
  for (let i = 0; i < count; i++) {
    const s = await h.store.getSchedule(schedule(i, 0).id);
    const job = s?.activeJobId ? await h.store.getJob(s.activeJobId) : null;
    if (!s || s.nextRunAt <= due || s.lastRunAt !== due - 60_000 || !job || job.scheduleId !== s.id) problems.push(schedule(i, 0).id);
  }
  expect(problems).toEqual([]);
}

describe('dispatch fan-out', () => {
  it('10 000 schedules due at once are all dispatched exactly once, in pages and batches', async () => {
    const h = createHarness();
    const due = h.clock.now();
    await seed(h, 10_000, due - 60_000);
    await startDispatchRun(h.deps);
    // The run started twice in the same minute adds nothing.
    await startDispatchRun(h.deps);
    await h.drain();
    await expectAllDispatched(h, 10_000, due);
    const log = h.queue.log.filter((l) => l.startsWith('dispatch:'));
    expect(log.filter((l) => l.includes('_b_'))).toHaveLength(10_000 / DISPATCH_BATCH_SIZE);
    // Full pages, then the one that finds the end.
    expect(log.filter((l) => !l.includes('_b_'))).toHaveLength(Math.floor(10_000 / DISPATCH_PAGE_SIZE) + 1);
    expect(log.every((l) => l.endsWith('-> ok'))).toBe(true);
    // Every schedule moved on to its next night.
    const left = await h.store.listDueSchedules({ dueBy: due, limit: 10 });
    expect(left).toEqual([]);
  });

  it('a page run again (its task redelivered after a crash) changes nothing; a batch run again neither', async () => {
    const h = createHarness();
    const due = h.clock.now();
    await seed(h, 250, due - 60_000);
    await dispatchPage(h.deps, { kind: 'page', dueBy: due, batchesBefore: 0 });
    const batches = h.queue.pending.length;
    await dispatchPage(h.deps, { kind: 'page', dueBy: due, batchesBefore: 0 });
    expect(h.queue.pending).toHaveLength(batches);
    const [first] = h.queue.pending;
    await h.drain();
    // The first batch again, after all of them ran: every schedule has moved on.
    const again = h.definitions.find((d) => d.name === 'dispatch');
    await again?.handler(first?.payload ?? {}, { queue: 'dispatch', taskId: 'again', retryCount: 1 });
    await expectAllDispatched(h, 250, due);
  });

  it('a crash between pages loses no page: the next page is enqueued before the page’s batches', async () => {
    const h = createHarness();
    const due = h.clock.now();
    await seed(h, DISPATCH_PAGE_SIZE + 10, due - 60_000);
    await dispatchPage(h.deps, { kind: 'page', dueBy: due, batchesBefore: 0 });
    const [next] = h.queue.pending;
    expect(next).toMatchObject({ queue: 'dispatch', payload: { kind: 'page' } });
    await h.drain();
    await expectAllDispatched(h, DISPATCH_PAGE_SIZE + 10, due);
  });

  it('spreads a burst’s batches over at most the spread, a small burst not at all', () => {
    expect(batchDelaySeconds(0)).toBe(0);
    expect(batchDelaySeconds(5)).toBe(0);
    expect(batchDelaySeconds(5000)).toBe(DISPATCH_SPREAD_SECONDS / 2);
    expect(batchDelaySeconds(1_000_000)).toBe(DISPATCH_SPREAD_SECONDS);
  });

  it('the capacity model dispatches a million due schedules within 15 minutes and maintains every user within a day', () => {
    expect(1_000_000 / SCALE_CAPACITY.dispatchPerMinute + SCALE_CAPACITY.dispatchSpreadMinutes).toBeLessThanOrEqual(15);
    expect(SCALE_CAPACITY.gcUsersPerDay).toBeGreaterThanOrEqual(1_000_000);
  });
});

describe('per-user maintenance', () => {
  it('is enqueued once an hour per user, past GC’s grace period, and runs retention and GC', async () => {
    const h = createHarness();
    h.deps.retention = { keepLast: 1, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 };
    for (const ids of [['a'], ['b']]) {
      h.clock.advance(60_000);
      const bytes = contactsChunk(ids);
      const { job } = await h.call('createBackupJob', 'alice', { deviceId: 'p', types: ['contacts'] });
      await h.call('registerChunks', 'alice', { jobId: job.id, chunks: [describeChunk('contacts', bytes, 1)] });
      const { uploadUrl } = await h.call('beginChunkUpload', 'alice', { jobId: job.id, chunkId: describeChunk('contacts', bytes, 1).id });
      await h.upload(uploadUrl as string, bytes);
      await h.call('commitUpload', 'alice', { jobId: job.id, chunkCount: 1 });
      await h.drain();
    }
    // Retention forgot the first snapshot at the second finalize; its blobs wait for GC.
    expect((await h.store.listSnapshots({ uid: 'alice' })).items).toHaveLength(1);
    h.deps.maintenanceDelaySeconds = 3900;
    await scheduleUserMaintenance(h.deps, 'alice');
    await scheduleUserMaintenance(h.deps, 'alice');
    const tasks = h.queue.pending.filter((t) => t.queue === 'maintenance');
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({ payload: { uid: 'alice' }, delaySeconds: 3900 });
    h.clock.advance(2 * 3_600_000);
    const blobsBefore = await count(h);
    await h.drain();
    expect(h.queue.log.filter((l) => l.startsWith('maintenance:'))).toEqual([expect.stringMatching(/-> ok$/)]);
    expect(await count(h)).toBeLessThan(blobsBefore);
    expect((await h.store.listSnapshots({ uid: 'alice' })).items).toHaveLength(1);
  });

  it('a runtime that collects otherwise enqueues nothing', async () => {
    const h = createHarness();
    await scheduleUserMaintenance(h.deps, 'alice');
    expect(h.queue.pending).toEqual([]);
  });
});

async function count(h: Harness): Promise<number> {
  let n = 0;
  for await (const _ of h.blobs.list('users/alice/blobs/')) n += 1;
  return n;
}

describe('cleanup of a finished job', () => {
  it('cancel works on it for a bounded time and tasks finish it in rounds, whatever its size', async () => {
    const h = createHarness();
    const chunks = Array.from({ length: 3 }, (_, i) => describeChunk('contacts', contactsChunk([`c${i}`]), 1));
    const { job } = await h.call('createBackupJob', 'alice', { deviceId: 'p', types: ['contacts'] });
    await h.call('registerChunks', 'alice', { jobId: job.id, chunks });
    // 300 raw uploads; each delete takes 2 s of the clock, so one round (480 s) cannot do them all.
    for (let i = 0; i < 300; i++) await h.blobs.put(`${uploadPrefix('alice', job.id)}raw-${i}`, new Uint8Array([i & 0xff]));
    const realDelete = h.blobs.delete.bind(h.blobs);
    h.blobs.delete = async (key) => {
      h.clock.advance(2_000);
      await realDelete(key);
    };
    const left = async () => {
      let n = 0;
      for await (const _ of h.blobs.list(uploadPrefix('alice', job.id))) n++;
      return n;
    };
    const records = async () => Object.values(await h.store.chunkTotals(job.id)).reduce((n, t) => n + t.chunks, 0);
    const before = h.clock.now();
    await h.call('cancelBackup', 'alice', { jobId: job.id });
    // The call stopped near its budget (deletes already started finish), far from 300 deletes.
    expect(h.clock.now() - before).toBeLessThan(INLINE_CLEANUP_MS + 20 * 2_000);
    expect(await left()).toBeGreaterThan(200);
    expect(await records()).toBeGreaterThan(0);

    await h.drain();
    expect(await left()).toBe(0);
    expect(await records()).toBe(0);
    const rounds = h.queue.log.filter((l) => l.startsWith('maintenance:') && l.includes(`cleanup_${job.id}_`));
    expect(rounds.length).toBeGreaterThanOrEqual(2);
    expect(rounds.every((l) => l.endsWith('-> ok'))).toBe(true);
    // A round run again (redelivered) finds nothing left and enqueues nothing.
    await runMaintenanceTask(h.deps, { kind: 'jobCleanup', uid: 'alice', jobId: job.id, round: 1 });
    expect(await h.drain()).toBe(0);
  });
});
