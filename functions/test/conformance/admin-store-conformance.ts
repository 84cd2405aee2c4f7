/**
 * The AdminStore contract as tests: the SQLite store and the Firestore store (over the fake, and
 * on the emulator when it is around) run this same suite. Documents are written through the job
 * store of the same backend, as the engine writes them.
 */
import type { ErrorCode } from '../../src/core/errors';
import type { BackupJob, Snapshot } from '../../src/core/model';
import type { AdminJobsQuery, AdminStore, JobStore, Page } from '../../src/ports';
import { makeJob, makeSnapshot } from './fixtures';

export interface AdminStoreHandle {
  admin: AdminStore;
  jobs: JobStore;
  close?: () => Promise<void> | void;
}

const T0 = 1_700_000_000_000;

async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await expect(promise).rejects.toMatchObject({ name: 'LifeboatError', code });
}

/** Follows cursors to the end; pages may be short (filters a store applies itself), never over the limit. */
async function everything<T>(limit: number, fetch: (cursor: string | undefined) => Promise<Page<T>>): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await fetch(cursor);
    expect(page.items.length).toBeLessThanOrEqual(limit);
    out.push(...page.items);
    cursor = page.nextCursor;
    if (++pages > 1000) throw new Error('paging does not terminate');
  } while (cursor !== undefined);
  return out;
}

/** 30 jobs of 3 users, 2 devices each, mixed statuses and types, 1 minute apart (some at the same time). */
function seedJobs(): BackupJob[] {
  const statuses = ['completed', 'failed', 'running', 'queued', 'cancelled', 'paused'] as const;
  return Array.from({ length: 30 }, (_, i) => {
    const uid = `user-${i % 3}`;
    const status = statuses[i % statuses.length] ?? 'queued';
    return makeJob({
      id: `job-${String(i).padStart(3, '0')}`,
      uid,
      deviceId: `${uid}-phone-${i % 2}`,
      types: i % 4 === 0 ? ['media'] : ['contacts', 'deviceInfo'],
      status,
      phase: status === 'completed' ? 'done' : status === 'running' ? 'uploading' : 'pending',
      pauseReason: status === 'paused' ? 'user' : null,
      // Two jobs share each minute, so ties are broken by id.
      createdAt: T0 + Math.floor(i / 2) * 60_000,
      updatedAt: T0 + Math.floor(i / 2) * 60_000,
    });
  });
}

const newestFirst = (a: { createdAt: number; id: string }, b: { createdAt: number; id: string }) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

export function describeAdminStoreConformance(name: string, makeStore: () => Promise<AdminStoreHandle>): void {
  describe(`AdminStore conformance: ${name}`, () => {
    let h: AdminStoreHandle;
    let jobs: BackupJob[];

    beforeEach(async () => {
      h = await makeStore();
      jobs = seedJobs();
      for (const job of jobs) await h.jobs.createJob(job);
    });

    afterEach(async () => {
      await h.close?.();
    });

    const cases: Array<[string, AdminJobsQuery, (j: BackupJob) => boolean]> = [
      ['no filter', {}, () => true],
      ['status', { status: 'failed' }, (j) => j.status === 'failed'],
      ['user', { uid: 'user-1' }, (j) => j.uid === 'user-1'],
      ['user and status', { uid: 'user-1', status: 'failed' }, (j) => j.uid === 'user-1' && j.status === 'failed'],
      ['user and device', { uid: 'user-2', deviceId: 'user-2-phone-1' }, (j) => j.deviceId === 'user-2-phone-1'],
      ['device alone', { deviceId: 'user-0-phone-0' }, (j) => j.deviceId === 'user-0-phone-0'],
      ['type', { type: 'media' }, (j) => j.types.includes('media')],
      ['status and type', { status: 'completed', type: 'contacts' }, (j) => j.status === 'completed' && j.types.includes('contacts')],
      ['time range', { from: T0 + 3 * 60_000, to: T0 + 9 * 60_000 }, (j) => j.createdAt >= T0 + 3 * 60_000 && j.createdAt < T0 + 9 * 60_000],
      ['every filter', { uid: 'user-0', status: 'completed', deviceId: 'user-0-phone-0', type: 'media', from: T0 }, (j) => j.uid === 'user-0' && j.status === 'completed' && j.deviceId === 'user-0-phone-0' && j.types.includes('media')],
      ['user, type and time', { uid: 'user-1', type: 'contacts', to: T0 + 10 * 60_000 }, (j) => j.uid === 'user-1' && j.types.includes('contacts') && j.createdAt < T0 + 10 * 60_000],
    ];

    it.each(cases)('lists jobs newest first with %s, across pages', async (_name, query, keep) => {
      const expected = jobs.filter(keep).sort(newestFirst).map((j) => j.id);
      expect(expected.length).toBeGreaterThan(0);
      for (const limit of [1, 4, 50]) {
        const got = await everything(limit, (cursor) => h.admin.listJobs({ ...query, limit, ...(cursor ? { cursor } : {}) }));
        expect(got.map((j) => j.id)).toEqual(expected);
      }
    });

    it('hands out whole jobs, exactly as written', async () => {
      const page = await h.admin.listJobs({ uid: 'user-0', limit: 100 });
      expect(page.items).toEqual(jobs.filter((j) => j.uid === 'user-0').sort(newestFirst));
    });

    it('refuses a bad limit or a foreign cursor (invalid-argument)', async () => {
      await expectCode(h.admin.listJobs({ limit: 0 }), 'invalid-argument');
      await expectCode(h.admin.listJobs({ limit: 101 }), 'invalid-argument');
      await expectCode(h.admin.listJobs({ cursor: 'not-a-cursor' }), 'invalid-argument');
      await expectCode(h.admin.listUsers({ cursor: 'not-a-cursor' }), 'invalid-argument');
      await expectCode(h.admin.listSnapshots({ limit: 500 }), 'invalid-argument');
    });

    it('counts jobs by status', async () => {
      const expected: Record<string, number> = {};
      for (const j of jobs) expected[j.status] = (expected[j.status] ?? 0) + 1;
      expect(await h.admin.jobStatusCounts()).toEqual(expected);
    });

    it('lists each user once, in uid order, across pages', async () => {
      for (const u of ['a-first', 'zed']) await h.jobs.createJob(makeJob({ id: `job-${u}`, uid: u }));
      expect(await everything(2, (cursor) => h.admin.listUsers({ limit: 2, ...(cursor ? { cursor } : {}) }))).toEqual(['a-first', 'user-0', 'user-1', 'user-2', 'zed']);
      expect((await h.admin.listUsers({})).items).toHaveLength(5);
    });

    it('lists snapshots of every user or one, newest first, counts them, and finds them by id prefix', async () => {
      const snapshots: Snapshot[] = Array.from({ length: 7 }, (_, i) =>
        makeSnapshot({ id: `snap_${i % 2 === 0 ? 'ab' : 'cd'}${i}`, uid: `user-${i % 2}`, jobId: `job-00${i}`, createdAt: T0 + Math.floor(i / 2) * 1000 }),
      );
      for (const s of snapshots) await h.jobs.runTransaction(async (tx) => tx.setSnapshot(s));
      const all = await everything(3, (cursor) => h.admin.listSnapshots({ limit: 3, ...(cursor ? { cursor } : {}) }));
      expect(all.map((s) => s.id)).toEqual([...snapshots].sort(newestFirst).map((s) => s.id));
      const one = await everything(2, (cursor) => h.admin.listSnapshots({ uid: 'user-1', limit: 2, ...(cursor ? { cursor } : {}) }));
      expect(one.map((s) => s.id)).toEqual(snapshots.filter((s) => s.uid === 'user-1').sort(newestFirst).map((s) => s.id));
      expect(await h.admin.countSnapshots('user-0')).toBe(4);
      expect(await h.admin.countSnapshots('nobody')).toBe(0);
      expect(await h.admin.snapshotIdsStartingWith('snap_ab', 10)).toEqual(['snap_ab0', 'snap_ab2', 'snap_ab4', 'snap_ab6']);
      expect(await h.admin.snapshotIdsStartingWith('snap_ab', 2)).toEqual(['snap_ab0', 'snap_ab2']);
      expect(await h.admin.snapshotIdsStartingWith('snap_', 10, 'user-1')).toEqual(['snap_cd1', 'snap_cd3', 'snap_cd5']);
      expect(await h.admin.snapshotIdsStartingWith('snap_x', 10)).toEqual([]);
    });

    it('keeps queue samples, one per time, oldest first from a time', async () => {
      for (const at of [T0 + 2000, T0, T0 + 1000]) await h.admin.recordQueueSample({ at, queues: { processChunk: { depth: at - T0, running: 1 } } });
      await h.admin.recordQueueSample({ at: T0 + 1000, queues: { kickoff: { depth: 7, running: 0 } } });
      expect(await h.admin.listQueueSamples(T0 + 500, 10)).toEqual([
        { at: T0 + 1000, queues: { kickoff: { depth: 7, running: 0 } } },
        { at: T0 + 2000, queues: { processChunk: { depth: 2000, running: 1 } } },
      ]);
      expect((await h.admin.listQueueSamples(0, 1)).map((s) => s.at)).toEqual([T0]);
      // Samples older than a week are dropped as new ones come.
      await h.admin.recordQueueSample({ at: T0 + 8 * 24 * 3_600_000, queues: {} });
      expect((await h.admin.listQueueSamples(0, 10)).map((s) => s.at)).toEqual([T0 + 8 * 24 * 3_600_000]);
    });
  });
}
