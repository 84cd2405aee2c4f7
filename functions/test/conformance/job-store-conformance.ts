/**
 * The JobStore contract as tests: every adapter (memory fake, SQLite, Firestore when its emulator
 * is around) runs this same suite.
 */
import type { ErrorCode } from '../../src/core/errors';
import type { BackupJob, ChunkBatch, ChunkRecord, Snapshot } from '../../src/core/model';
import type { JobStore, Page } from '../../src/ports';
import { hexId, makeChunk, makeChunkIndexEntry, makeJob, makeSchedule, makeSnapshot } from './fixtures';

export interface JobStoreHandle {
  store: JobStore;
  close?: () => Promise<void> | void;
}

async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await expect(promise).rejects.toMatchObject({ name: 'LifeboatError', code });
}

function newestFirst<T extends { createdAt: number; id: string }>(a: T, b: T): number {
  if (a.createdAt !== b.createdAt) return b.createdAt - a.createdAt;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** Follows cursors to the end; a final empty page is tolerated (Firestore cannot always tell). */
async function allPages<T>(limit: number, fetch: (cursor: string | undefined) => Promise<Page<T>>): Promise<T[][]> {
  const pages: T[][] = [];
  let cursor: string | undefined;
  do {
    const page = await fetch(cursor);
    expect(page.items.length).toBeLessThanOrEqual(limit);
    if (page.nextCursor !== undefined) expect(page.items.length).toBe(limit);
    pages.push(page.items);
    cursor = page.nextCursor;
    if (pages.length > 1000) throw new Error('paging does not terminate');
  } while (cursor !== undefined);
  return pages;
}

function aborted(): AbortSignal {
  const controller = new AbortController();
  controller.abort();
  return controller.signal;
}

export function describeJobStoreConformance(name: string, makeStore: () => Promise<JobStoreHandle>): void {
  describe(`JobStore conformance: ${name}`, () => {
    let store: JobStore;
    let close: JobStoreHandle['close'];

    beforeEach(async () => {
      const handle = await makeStore();
      store = handle.store;
      close = handle.close;
    });

    afterEach(async () => {
      await close?.();
    });

    const setChunks = (chunks: ChunkRecord[]) =>
      store.runTransaction(async (tx) => {
        for (const chunk of chunks) tx.setChunk(chunk);
      });
    const setSnapshots = (snapshots: Snapshot[]) =>
      store.runTransaction(async (tx) => {
        for (const snapshot of snapshots) tx.setSnapshot(snapshot);
      });

    describe('jobs', () => {
      it('creates a job once and keeps the original on a repeated create', async () => {
        const job = makeJob({
          id: 'j1',
          status: 'running',
          lastError: { code: 'unavailable', message: 'down', step: 'kickoff', at: 5, retrying: true },
          progress: { ...makeJob().progress, totalChunks: 3, byType: { media: { items: 1, skipped: 0, bytes: 9 } } },
        });
        expect(await store.createJob(job)).toEqual({ created: true });
        expect(await store.createJob(makeJob({ id: 'j1', attempts: 7 }))).toEqual({ created: false });
        expect(await store.getJob('j1')).toStrictEqual(job);
      });

      it('returns null for a missing job', async () => {
        expect(await store.getJob('nope')).toBeNull();
      });

      it('stores a copy: later changes to the written or returned object do not leak in', async () => {
        const job = makeJob({ id: 'j1' });
        const expected = makeJob({ id: 'j1' });
        await store.createJob(job);
        job.attempts = 99;
        const read = await store.getJob('j1');
        if (read) read.progress.totalChunks = 42;
        expect(await store.getJob('j1')).toStrictEqual(expected);
      });

      it('lists a user’s jobs newest first across pages, with no duplicates or gaps', async () => {
        const jobs: BackupJob[] = [];
        for (let i = 0; i < 11; i += 1) {
          // Pairs share a createdAt so the id tie-break is exercised.
          jobs.push(makeJob({ id: `j${String(i).padStart(2, '0')}`, createdAt: 1000 + Math.floor(i / 2) }));
        }
        for (const job of jobs) await store.createJob(job);
        await store.createJob(makeJob({ id: 'other', uid: 'u2', createdAt: 5000 }));

        const pages = await allPages(3, (cursor) =>
          store.listJobs({ uid: 'u1', limit: 3, ...(cursor === undefined ? {} : { cursor }) }),
        );
        expect(pages[0]).toHaveLength(3);
        expect(pages.flat()).toStrictEqual([...jobs].sort(newestFirst));
      });

      it('filters by status', async () => {
        const statuses = ['queued', 'running', 'running', 'failed', 'running'] as const;
        for (const [i, status] of statuses.entries()) {
          await store.createJob(makeJob({ id: `j${i}`, status, createdAt: 1000 + i }));
        }
        await store.createJob(makeJob({ id: 'x', uid: 'u2', status: 'running' }));
        const pages = await allPages(2, (cursor) =>
          store.listJobs({ uid: 'u1', status: 'running', limit: 2, ...(cursor === undefined ? {} : { cursor }) }),
        );
        expect(pages.flat().map((j) => j.id)).toEqual(['j4', 'j2', 'j1']);
        expect((await store.listJobs({ uid: 'u1', status: 'paused' })).items).toEqual([]);
      });

      it('pages by 20 by default', async () => {
        for (let i = 0; i < 23; i += 1) await store.createJob(makeJob({ id: `j${i}`, createdAt: i }));
        const first = await store.listJobs({ uid: 'u1' });
        expect(first.items).toHaveLength(20);
        expect(first.nextCursor).toEqual(expect.any(String));
        const rest = await store.listJobs({ uid: 'u1', cursor: first.nextCursor ?? '' });
        expect(rest.items.map((j) => j.createdAt)).toEqual([2, 1, 0]);
        expect(rest.nextCursor).toBeUndefined();
      });

      it('refuses bad limits and cursors with invalid-argument', async () => {
        for (const limit of [0, 101, 1.5, -1]) await expectCode(store.listJobs({ uid: 'u1', limit }), 'invalid-argument');
        await expectCode(store.listJobs({ uid: 'u1', cursor: '%%not a cursor%%' }), 'invalid-argument');
        await expectCode(store.listSnapshots({ uid: 'u1', limit: 101 }), 'invalid-argument');
        await expectCode(store.listChunks('j', { limit: 501 }), 'invalid-argument');
        await expectCode(store.listChunks('j', { limit: 0 }), 'invalid-argument');
        expect((await store.listJobs({ uid: 'u1', limit: 100 })).items).toEqual([]);
      });

      it('rejects calls with an aborted signal as cancelled', async () => {
        await expectCode(store.getJob('j1', { signal: aborted() }), 'cancelled');
        await expectCode(store.createJob(makeJob(), { signal: aborted() }), 'cancelled');
        expect(await store.getJob('job-1')).toBeNull();
      });
    });

    describe('chunks', () => {
      it('lists a job’s chunks by index across pages', async () => {
        const chunks = [7, 2, 9, 0, 4, 1, 8, 3, 6, 5].map((i) => makeChunk('j1', i));
        await setChunks(chunks);
        await setChunks([makeChunk('j2', 0, { id: 'f'.repeat(64) })]);
        const pages = await allPages(4, (cursor) =>
          store.listChunks('j1', { limit: 4, ...(cursor === undefined ? {} : { cursor }) }),
        );
        expect(pages.flat()).toStrictEqual([...chunks].sort((a, b) => a.index - b.index));
        expect((await store.listChunks('j1')).items).toHaveLength(10);
        expect(await store.listChunks('none')).toEqual({ items: [] });
      });

      it('reads chunks in a transaction, null where absent, in the order asked', async () => {
        const [a, b] = [makeChunk('j1', 0), makeChunk('j1', 1)];
        await setChunks([a, b]);
        const got = await store.runTransaction((tx) => tx.getChunks('j1', [b.id, 'f'.repeat(64), a.id]));
        expect(got).toStrictEqual([b, null, a]);
      });
    });

    describe('registration state', () => {
      const batch = (jobId: string, firstIndex: number, n: number, seed: number): ChunkBatch => ({
        id: hexId(5000 + seed),
        jobId,
        uid: 'u1',
        firstIndex,
        chunks: Array.from({ length: n }, (_, i) => ({ id: hexId(6000 + seed * 10 + i), index: firstIndex + i, type: 'contacts' as const, size: 10, items: 2, resultRef: hexId(7000 + i), processedItems: 2, skippedItems: 0 })),
        totals: { chunks: n, items: 2 * n, skipped: seed, bytes: 10 * n },
        createdAt: 1,
      });

      it('writes, reads and lists a job’s registration batches by first index', async () => {
        const batches = [batch('j1', 40, 2, 3), batch('j1', 0, 3, 1), batch('j1', 10, 1, 2)];
        await store.runTransaction(async (tx) => {
          for (const b of batches) tx.setChunkBatch(b);
          tx.setChunkBatch(batch('j2', 0, 1, 9));
        });
        expect(await store.runTransaction((tx) => tx.getChunkBatch('j1', hexId(5001)))).toStrictEqual(batches[1]);
        expect(await store.runTransaction((tx) => tx.getChunkBatch('j1', hexId(5009)))).toBeNull();
        const pages = await allPages(2, (cursor) => store.listChunkBatches('j1', { limit: 2, ...(cursor === undefined ? {} : { cursor }) }));
        expect(pages.flat().map((b) => b.firstIndex)).toEqual([0, 10, 40]);
        expect(await store.knownTotals('j1')).toEqual({ chunks: 6, items: 12, skipped: 6, bytes: 60 });
        expect(await store.knownTotals('none')).toEqual({ chunks: 0, items: 0, skipped: 0, bytes: 0 });
      });

      it('sums a job’s chunk records by state', async () => {
        await setChunks([
          makeChunk('j1', 0, { state: 'pending' }),
          makeChunk('j1', 1, { state: 'processed', processedItems: 3, skippedItems: 1, storedBytes: 50 }),
          makeChunk('j1', 2, { state: 'processed', processedItems: 2, skippedItems: 0, storedBytes: 7 }),
          makeChunk('j2', 0, { state: 'processed', processedItems: 9 }),
        ]);
        const totals = await store.chunkTotals('j1');
        expect(totals.pending).toEqual({ chunks: 1, items: 3, bytes: 100, processedItems: 0, skippedItems: 0, storedBytes: 0 });
        expect(totals.processed).toEqual({ chunks: 2, items: 6, bytes: 203, processedItems: 5, skippedItems: 1, storedBytes: 57 });
        expect(totals.uploaded.chunks).toBe(0);
        expect((await store.chunkTotals('none')).processed.chunks).toBe(0);
      });

      it('deletes a job’s chunk records and batches in bounded steps, leaving other jobs alone', async () => {
        await setChunks([0, 1, 2].map((i) => makeChunk('j1', i)));
        await setChunks([makeChunk('j2', 0)]);
        await store.runTransaction(async (tx) => {
          tx.setChunkBatch(batch('j1', 3, 2, 1));
          tx.setChunkBatch(batch('j2', 1, 1, 2));
        });
        const first = await store.deleteJobChunks('j1', 2);
        expect(first).toEqual({ deleted: 2, more: true });
        let rest = await store.deleteJobChunks('j1', 500);
        while (rest.more) rest = await store.deleteJobChunks('j1', 500);
        expect((await store.listChunks('j1')).items).toEqual([]);
        expect((await store.listChunkBatches('j1')).items).toEqual([]);
        expect(await store.deleteJobChunks('j1', 10)).toEqual({ deleted: 0, more: false });
        expect((await store.listChunks('j2')).items).toHaveLength(1);
        expect((await store.listChunkBatches('j2')).items).toHaveLength(1);
      });
    });

    describe('chunk index', () => {
      it('creates an entry once and keeps the first', async () => {
        const entry = makeChunkIndexEntry();
        expect(await store.putChunkIndex(entry)).toEqual({ created: true });
        expect(await store.putChunkIndex({ ...entry, items: 99 })).toEqual({ created: false });
        expect(await store.getChunkIndex('u1', [entry.key])).toStrictEqual([entry]);
      });

      it('gets many keys at once, null where absent, scoped to the user', async () => {
        const a = makeChunkIndexEntry({ key: 'media:q75:a' });
        const b = makeChunkIndexEntry({ key: 'media:q75:b' });
        await store.putChunkIndex(a);
        await store.putChunkIndex(b);
        await store.putChunkIndex(makeChunkIndexEntry({ uid: 'u2', key: 'media:q75:c' }));
        expect(await store.getChunkIndex('u1', ['media:q75:b', 'media:q75:c', 'media:q75:a'])).toStrictEqual([b, null, a]);
        expect(await store.getChunkIndex('u2', ['media:q75:a'])).toEqual([null]);
        expect(await store.getChunkIndex('u1', [])).toEqual([]);
      });

      it('refuses more than 500 keys', async () => {
        const keys = Array.from({ length: 501 }, (_, i) => `k${i}`);
        await expectCode(store.getChunkIndex('u1', keys), 'invalid-argument');
        expect(await store.getChunkIndex('u1', keys.slice(0, 500))).toHaveLength(500);
      });

      it('lists one user’s entries by key across pages and deletes some (garbage collection)', async () => {
        const keys = ['contacts:v1:c', 'contacts:v1:a', 'media:q75:b', 'chats:v1:d', 'contacts:v1:e'];
        for (const key of keys) await store.putChunkIndex(makeChunkIndexEntry({ key }));
        await store.putChunkIndex(makeChunkIndexEntry({ uid: 'u2', key: 'contacts:v1:b' }));
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.listChunkIndex({ uid: 'u1', limit: 2, ...(cursor ? { cursor } : {}) });
          seen.push(...page.items.map((e) => e.key));
          cursor = page.nextCursor;
        } while (cursor);
        expect(seen).toEqual([...keys].sort());
        await store.deleteChunkIndex('u1', ['media:q75:b', 'contacts:v1:b', 'never']);
        expect((await store.listChunkIndex({ uid: 'u1' })).items.map((e) => e.key)).toEqual(keys.filter((k) => k !== 'media:q75:b').sort());
        expect((await store.listChunkIndex({ uid: 'u2' })).items.map((e) => e.key)).toEqual(['contacts:v1:b']);
        await expectCode(store.listChunkIndex({ uid: 'u1', limit: 501 }), 'invalid-argument');
        await expectCode(store.deleteChunkIndex('u1', Array.from({ length: 501 }, (_, i) => `k${i}`)), 'invalid-argument');
      });
    });

    describe('snapshots', () => {
      it('gets a snapshot as written, null when absent', async () => {
        const snapshot = makeSnapshot({ health: { checkedAt: 9, ok: false, checkedBlobs: 3, problems: 1 } });
        await setSnapshots([snapshot]);
        expect(await store.getSnapshot('snap-1')).toStrictEqual(snapshot);
        expect(await store.getSnapshot('nope')).toBeNull();
        expect(await store.runTransaction((tx) => tx.getSnapshot('snap-1'))).toStrictEqual(snapshot);
      });

      it('lists a user’s snapshots newest first across pages', async () => {
        const snapshots = Array.from({ length: 7 }, (_, i) => makeSnapshot({ id: `s${i}`, createdAt: 100 + (i % 3) }));
        await setSnapshots([...snapshots, makeSnapshot({ id: 'other', uid: 'u2' })]);
        const pages = await allPages(2, (cursor) =>
          store.listSnapshots({ uid: 'u1', limit: 2, ...(cursor === undefined ? {} : { cursor }) }),
        );
        expect(pages.flat()).toStrictEqual([...snapshots].sort(newestFirst));
      });

      it('deletes snapshots; deleting a missing one is a no-op', async () => {
        await setSnapshots([makeSnapshot({ id: 'keep' }), makeSnapshot({ id: 'drop', createdAt: 5 })]);
        await store.runTransaction(async (tx) => {
          tx.deleteSnapshot('drop');
          tx.deleteSnapshot('never-existed');
        });
        expect(await store.getSnapshot('drop')).toBeNull();
        expect((await store.listSnapshots({ uid: 'u1' })).items.map((s) => s.id)).toStrictEqual(['keep']);
      });
    });

    describe('user deletion', () => {
      /** Every document of the two users the tests create, as the store lists them. */
      async function holdings(uid: string) {
        const jobs = (await store.listJobs({ uid, limit: 100 })).items;
        const chunks = await Promise.all(jobs.map(async (j) => (await store.listChunks(j.id, { limit: 500 })).items.length + (await store.listChunkBatches(j.id, { limit: 100 })).items.length));
        return {
          jobs: jobs.length,
          registration: chunks.reduce((a, b) => a + b, 0),
          snapshots: (await store.listSnapshots({ uid, limit: 100 })).items.length,
          schedules: (await store.listSchedules(uid)).length,
          index: (await store.listChunkIndex({ uid, limit: 500 })).items.length,
        };
      }

      async function seed(uid: string, tag: string) {
        for (const n of [1, 2, 3]) await store.createJob(makeJob({ id: `${tag}-job-${n}`, uid, createdAt: n }));
        await setChunks([0, 1, 2, 3].map((i) => makeChunk(`${tag}-job-1`, i, { uid })));
        await setChunks([makeChunk(`${tag}-job-3`, 0, { uid })]);
        await store.runTransaction(async (tx) => {
          tx.setChunkBatch({
            id: hexId(tag.length * 100 + 1), jobId: `${tag}-job-2`, uid, firstIndex: 0,
            chunks: [{ id: hexId(9), index: 0, type: 'contacts', size: 1, items: 1, resultRef: hexId(8), processedItems: 1, skippedItems: 0 }],
            totals: { chunks: 1, items: 1, skipped: 0, bytes: 1 }, createdAt: 1,
          });
          tx.setSchedule(makeSchedule({ id: `${tag}-sched`, uid }));
        });
        await setSnapshots([1, 2].map((n) => makeSnapshot({ id: `${tag}-snap-${n}`, uid, jobId: `${tag}-job-${n}`, createdAt: n })));
        for (const n of [1, 2, 3]) await store.putChunkIndex(makeChunkIndexEntry({ uid, key: `contacts:v1:${hexId(n)}` }));
      }

      it('deletes every document of one user in bounded steps, and nothing of another', async () => {
        await seed('alice', 'a');
        await seed('bob', 'b');
        const bobBefore = await holdings('bob');
        expect(bobBefore).toEqual({ jobs: 3, registration: 6, snapshots: 2, schedules: 1, index: 3 });
        let deleted = 0;
        let calls = 0;
        for (let more = true; more; calls++) {
          const step = await store.deleteUserDocuments('alice', 4);
          expect(step.deleted).toBeLessThanOrEqual(4);
          deleted += step.deleted;
          more = step.more;
          if (calls > 20) throw new Error('deleteUserDocuments does not finish');
        }
        // 3 jobs, 6 chunk records and batches, 2 snapshots, 1 schedule, 3 index entries.
        expect(deleted).toBe(15);
        expect(calls).toBe(4);
        expect(await holdings('alice')).toEqual({ jobs: 0, registration: 0, snapshots: 0, schedules: 0, index: 0 });
        for (const n of [1, 2, 3]) expect([n, await store.listChunks(`a-job-${n}`)]).toEqual([n, { items: [] }]);
        expect(await store.getJob('a-job-1')).toBeNull();
        expect(await store.getSnapshot('a-snap-1')).toBeNull();
        expect(await store.getChunkIndex('alice', [`contacts:v1:${hexId(1)}`])).toEqual([null]);
        expect(await holdings('bob')).toEqual(bobBefore);
        expect(await store.getJob('b-job-1')).not.toBeNull();
        // Deleting again, or a user with nothing, is a no-op.
        expect(await store.deleteUserDocuments('alice', 500)).toEqual({ deleted: 0, more: false });
        expect(await store.deleteUserDocuments('nobody', 1)).toEqual({ deleted: 0, more: false });
      });

      it('deletes a job only after its chunk records and batches, so a stopped deletion finds them again', async () => {
        await seed('alice', 'a');
        // 2 snapshots, 1 schedule, then job a-job-1's 4 chunks: the job itself does not fit in 7.
        expect(await store.deleteUserDocuments('alice', 7)).toEqual({ deleted: 7, more: true });
        expect(await store.getJob('a-job-1')).not.toBeNull();
        expect((await store.listChunks('a-job-1')).items).toEqual([]);
        expect(await store.deleteUserDocuments('alice', 500)).toEqual({ deleted: 8, more: false });
        expect(await holdings('alice')).toEqual({ jobs: 0, registration: 0, snapshots: 0, schedules: 0, index: 0 });
      });

      it('refuses a limit outside 1..500 and an aborted call', async () => {
        await expectCode(store.deleteUserDocuments('alice', 0), 'invalid-argument');
        await expectCode(store.deleteUserDocuments('alice', 501), 'invalid-argument');
        await expectCode(store.deleteUserDocuments('alice', 10, { signal: aborted() }), 'cancelled');
      });
    });

    describe('schedules', () => {
      it('gets, lists per user and deletes schedules', async () => {
        const a = makeSchedule({ id: 'a' });
        const b = makeSchedule({ id: 'b', kind: 'custom', everyHours: 6, enabled: false });
        await store.runTransaction(async (tx) => {
          tx.setSchedule(b);
          tx.setSchedule(a);
          tx.setSchedule(makeSchedule({ id: 'c', uid: 'u2' }));
        });
        expect(await store.getSchedule('b')).toStrictEqual(b);
        expect(await store.getSchedule('zz')).toBeNull();
        const listed = await store.listSchedules('u1');
        expect([...listed].sort((x, y) => (x.id < y.id ? -1 : 1))).toStrictEqual([a, b]);

        await store.runTransaction(async (tx) => {
          tx.deleteSchedule('a');
          tx.deleteSchedule('never-existed');
        });
        expect(await store.getSchedule('a')).toBeNull();
        expect(await store.listSchedules('u1')).toStrictEqual([b]);
      });

      it('lists enabled schedules due by a time, earliest first, up to a limit', async () => {
        await store.runTransaction(async (tx) => {
          tx.setSchedule(makeSchedule({ id: 'late', nextRunAt: 300 }));
          tx.setSchedule(makeSchedule({ id: 'early', nextRunAt: 100, uid: 'u2' }));
          tx.setSchedule(makeSchedule({ id: 'mid', nextRunAt: 200 }));
          tx.setSchedule(makeSchedule({ id: 'off', nextRunAt: 50, enabled: false }));
          tx.setSchedule(makeSchedule({ id: 'future', nextRunAt: 301 }));
        });
        const due = await store.listDueSchedules({ dueBy: 300 });
        expect(due.map((s) => s.id)).toEqual(['early', 'mid', 'late']);
        expect((await store.listDueSchedules({ dueBy: 300, limit: 2 })).map((s) => s.id)).toEqual(['early', 'mid']);
        expect(await store.listDueSchedules({ dueBy: 99 })).toEqual([]);
        expect(due[0]).toStrictEqual(makeSchedule({ id: 'early', nextRunAt: 100, uid: 'u2' }));
      });

      it('pages due schedules after a (nextRunAt, id) cursor, ties by id', async () => {
        await store.runTransaction(async (tx) => {
          for (const id of ['d', 'b', 'c', 'a']) tx.setSchedule(makeSchedule({ id, nextRunAt: 100 }));
          tx.setSchedule(makeSchedule({ id: 'z', nextRunAt: 50 }));
        });
        const first = await store.listDueSchedules({ dueBy: 100, limit: 3 });
        expect(first.map((s) => s.id)).toEqual(['z', 'a', 'b']);
        const last = first[first.length - 1] as { nextRunAt: number; id: string };
        const next = await store.listDueSchedules({ dueBy: 100, limit: 3, after: { nextRunAt: last.nextRunAt, id: last.id } });
        expect(next.map((s) => s.id)).toEqual(['c', 'd']);
      });
    });

    describe('transactions', () => {
      it('commits all writes together and returns the function’s value', async () => {
        await store.createJob(makeJob({ id: 'j1' }));
        const result = await store.runTransaction(async (tx) => {
          const job = await tx.getJob('j1');
          if (!job) throw new Error('missing job');
          tx.setJob({ ...job, status: 'running', attempts: 1 });
          tx.setChunk(makeChunk('j1', 0));
          tx.setSnapshot(makeSnapshot());
          tx.setSchedule(makeSchedule());
          return 'done';
        });
        expect(result).toBe('done');
        expect(await store.getJob('j1')).toStrictEqual(makeJob({ id: 'j1', status: 'running', attempts: 1 }));
        expect((await store.listChunks('j1')).items).toStrictEqual([makeChunk('j1', 0)]);
        expect(await store.getSnapshot('snap-1')).toStrictEqual(makeSnapshot());
        expect(await store.getSchedule('sched-1')).toStrictEqual(makeSchedule());
      });

      it('writes nothing when the function throws, and rejects with its error', async () => {
        await store.createJob(makeJob({ id: 'j1' }));
        const boom = new Error('boom');
        await expect(
          store.runTransaction(async (tx) => {
            tx.setJob(makeJob({ id: 'j1', attempts: 5 }));
            tx.setChunk(makeChunk('j1', 0));
            tx.setSchedule(makeSchedule());
            throw boom;
          }),
        ).rejects.toBe(boom);
        expect(await store.getJob('j1')).toStrictEqual(makeJob({ id: 'j1' }));
        expect((await store.listChunks('j1')).items).toEqual([]);
        expect(await store.getSchedule('sched-1')).toBeNull();
      });

      it('rejects a read after a write with failed-precondition and writes nothing', async () => {
        await expectCode(
          store.runTransaction(async (tx) => {
            tx.setJob(makeJob({ id: 'j1' }));
            await tx.getSchedule('sched-1');
          }),
          'failed-precondition',
        );
        expect(await store.getJob('j1')).toBeNull();
      });

      it('rejects an aborted transaction as cancelled without running it', async () => {
        let ran = false;
        await expectCode(
          store.runTransaction(
            async (tx) => {
              ran = true;
              tx.setJob(makeJob({ id: 'j1' }));
            },
            { signal: aborted() },
          ),
          'cancelled',
        );
        expect(ran).toBe(false);
        expect(await store.getJob('j1')).toBeNull();
      });

      it('adds increments to counters and per-type counters and sets the touch fields', async () => {
        const base = makeJob({ id: 'j1' });
        base.progress.totalChunks = 4;
        base.progress.byType = { chats: { items: 1, skipped: 0, bytes: 5 } };
        await store.createJob(base);
        await store.runTransaction(async (tx) => {
          tx.incrementJob(
            'j1',
            {
              counters: { processedChunks: 1, bytesStored: 100 },
              byType: { chats: { bytes: 3 }, media: { items: 2 } },
            },
            { updatedAt: 7, heartbeatAt: 8 },
          );
        });
        await store.runTransaction(async (tx) => {
          tx.incrementJob('j1', { counters: { processedChunks: 2 } });
        });
        const expected = makeJob({ id: 'j1', updatedAt: 7, heartbeatAt: 8 });
        expected.progress = {
          ...expected.progress,
          totalChunks: 4,
          processedChunks: 3,
          bytesStored: 100,
          byType: { chats: { items: 1, skipped: 0, bytes: 8 }, media: { items: 2, skipped: 0, bytes: 0 } },
        };
        expect(await store.getJob('j1')).toStrictEqual(expected);
      });

      it('applies an increment on top of a job set in the same transaction', async () => {
        await store.runTransaction(async (tx) => {
          tx.setJob(makeJob({ id: 'j1' }));
          tx.incrementJob('j1', { counters: { uploadedChunks: 2 } });
        });
        expect((await store.getJob('j1'))?.progress.uploadedChunks).toBe(2);
      });

      it('fails an increment of a missing job with not-found and writes nothing', async () => {
        await expectCode(
          store.runTransaction(async (tx) => {
            tx.setChunk(makeChunk('ghost', 0));
            tx.incrementJob('ghost', { counters: { uploadedChunks: 1 } });
          }),
          'not-found',
        );
        expect((await store.listChunks('ghost')).items).toEqual([]);
      });

      it('loses no update when 20 transactions read-modify-write one job at once', async () => {
        await store.createJob(makeJob({ id: 'j1' }));
        await Promise.all(
          Array.from({ length: 20 }, () =>
            store.runTransaction(async (tx) => {
              const job = await tx.getJob('j1');
              if (!job) throw new Error('missing job');
              tx.setJob({ ...job, attempts: job.attempts + 1 });
            }),
          ),
        );
        expect((await store.getJob('j1'))?.attempts).toBe(20);
      });

      it('loses no increment when 20 transactions increment one job at once', async () => {
        await store.createJob(makeJob({ id: 'j1' }));
        await Promise.all(
          Array.from({ length: 20 }, () =>
            store.runTransaction(async (tx) => {
              tx.incrementJob('j1', { counters: { processedChunks: 1 }, byType: { media: { items: 1 } } });
            }),
          ),
        );
        const job = await store.getJob('j1');
        expect(job?.progress.processedChunks).toBe(20);
        expect(job?.progress.byType.media).toEqual({ items: 20, skipped: 0, bytes: 0 });
      });

      it('notices a document created after it was read as absent', async () => {
        const outcomes = await Promise.all(
          Array.from({ length: 10 }, () =>
            store.runTransaction(async (tx) => {
              const job = await tx.getJob('j1');
              tx.setJob(job ? { ...job, attempts: job.attempts + 1 } : makeJob({ id: 'j1' }));
              return job ? 'updated' : 'created';
            }),
          ),
        );
        expect(outcomes.filter((o) => o === 'created')).toHaveLength(1);
        expect((await store.getJob('j1'))?.attempts).toBe(9);
      });

      it('accepts 500 writes and refuses 501 with invalid-argument, writing nothing', async () => {
        const chunks = Array.from({ length: 501 }, (_, i) => makeChunk('j1', i));
        await expectCode(setChunks(chunks), 'invalid-argument');
        expect((await store.listChunks('j1')).items).toEqual([]);
        await setChunks(chunks.slice(0, 500));
        const pages = await allPages(500, (cursor) =>
          store.listChunks('j1', { limit: 500, ...(cursor === undefined ? {} : { cursor }) }),
        );
        expect(pages.flat()).toHaveLength(500);
      });
    });
  });
}
