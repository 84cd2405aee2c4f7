/**
 * FirestoreJobStore's own logic over a recording fake of the SDK (fake-firestore.ts): the port's
 * transaction rules, create-if-absent, error mapping, paging and the queries it sends. Firestore's
 * own behaviour (locking, increments, indexes) is exercised by the conformance suite in
 * firestore-emulator.test.ts where an emulator runs.
 */
import { FieldValue, Timestamp } from '@google-cloud/firestore';
import { FIRESTORE_QUERIES, FirestoreJobStore, toDocument } from '../../src/adapters';
import { makeChunk, makeChunkIndexEntry, makeJob, makeSchedule, makeSnapshot } from '../conformance/fixtures';
import { FakeFirestore, grpcError, type RecordedQuery } from './fake-firestore';

function aborted(): AbortSignal {
  const controller = new AbortController();
  controller.abort();
  return controller.signal;
}

describe('FirestoreJobStore (over a recording fake of the SDK)', () => {
  let db: FakeFirestore;
  let store: FirestoreJobStore;

  beforeEach(() => {
    db = new FakeFirestore();
    store = new FirestoreJobStore(db.asFirestore(), { root: 'envs/test' });
  });

  describe('create-if-absent', () => {
    it('creates with create() and reads ALREADY_EXISTS as created: false', async () => {
      expect(await store.createJob(makeJob({ id: 'j1' }))).toEqual({ created: true });
      expect(db.docs.get('envs/test/backupJobs/j1')).toEqual(toDocument(makeJob({ id: 'j1' })));
      expect(await store.createJob(makeJob({ id: 'j1', attempts: 3 }))).toEqual({ created: false });
      expect(await store.getJob('j1')).toStrictEqual(makeJob({ id: 'j1' }));
      const entry = makeChunkIndexEntry();
      expect(await store.putChunkIndex(entry)).toEqual({ created: true });
      expect(db.docs.has(`envs/test/users/u1/chunkIndex/${entry.key}`)).toBe(true);
      expect(await store.putChunkIndex(entry)).toEqual({ created: false });
    });

    it('maps other failures to coded errors', async () => {
      db.failNext = grpcError(14, 'UNAVAILABLE');
      await expect(store.createJob(makeJob())).rejects.toMatchObject({ code: 'unavailable', retryable: true });
      db.failNext = grpcError(7, 'PERMISSION_DENIED');
      await expect(store.putChunkIndex(makeChunkIndexEntry())).rejects.toMatchObject({ code: 'permission-denied', retryable: false });
    });
  });

  describe('registration state', () => {
    it('sums chunk records by state with aggregation queries (no document read) over the indexed fields', async () => {
      await store.runTransaction(async (tx) => {
        tx.setChunk(makeChunk('j1', 0, { state: 'processed', processedItems: 3, storedBytes: 9 }));
        tx.setChunk(makeChunk('j1', 1, { state: 'pending' }));
      });
      db.reads.length = 0;
      const totals = await store.chunkTotals('j1');
      expect(totals.processed).toEqual({ chunks: 1, items: 3, bytes: 100, processedItems: 3, skippedItems: 0, storedBytes: 9 });
      expect(totals.pending.chunks).toBe(1);
      expect(db.reads).toEqual([]);
      expect(db.aggregations.map((a) => [a.collection, a.filters])).toContainEqual(['envs/test/backupJobs/j1/chunks', [{ field: 'state', op: '==', value: 'processed' }]]);
      // Every summed field has its (state, field) index.
      const summed = new Set(db.aggregations.flatMap((a) => Object.values(a.aggregate)).filter((f) => f.startsWith('sum(')).map((f) => f.slice(4, -1)));
      const indexed = new Set(FIRESTORE_QUERIES.filter((q) => q.collectionGroup === 'chunks' && q.fields[0]?.fieldPath === 'state').map((q) => q.fields[1]?.fieldPath));
      expect(summed).toEqual(indexed);
    });

    it('keeps batches under the job and deletes the job’s registration state in one batch per call', async () => {
      const batch = { id: 'b'.repeat(64), jobId: 'j1', uid: 'u1', firstIndex: 0, chunks: [{ id: 'c'.repeat(64), index: 0, type: 'contacts' as const, size: 1, items: 1, resultRef: 'd'.repeat(64), processedItems: 1, skippedItems: 0 }], totals: { chunks: 1, items: 1, skipped: 0, bytes: 1 }, createdAt: 1 };
      await store.runTransaction(async (tx) => {
        tx.setChunkBatch(batch);
        tx.setChunk(makeChunk('j1', 1));
      });
      expect(db.docs.has(`envs/test/backupJobs/j1/chunkBatches/${'b'.repeat(64)}`)).toBe(true);
      expect(await store.deleteJobChunks('j1', 500)).toEqual({ deleted: 2, more: false });
      expect([...db.docs.keys()].filter((k) => k.startsWith('envs/test/backupJobs/j1/'))).toEqual([]);
    });
  });

  it('reads a job with Timestamps as epoch milliseconds', async () => {
    db.docs.set('envs/test/backupJobs/j1', { ...toDocument(makeJob({ id: 'j1' })), updatedAt: Timestamp.fromMillis(42) });
    expect(await store.getJob('j1')).toStrictEqual(makeJob({ id: 'j1', updatedAt: 42 }));
  });

  it('fails a malformed stored document with data-loss', async () => {
    db.docs.set('envs/test/snapshots/s1', { id: 's1', uid: 'u1' });
    await expect(store.getSnapshot('s1')).rejects.toMatchObject({ code: 'data-loss', retryable: false });
  });

  describe('transactions', () => {
    it('hands the merged writes to the SDK and returns the function’s value, with 25 attempts allowed', async () => {
      db.docs.set('envs/test/backupJobs/j1', toDocument(makeJob({ id: 'j1' })));
      const result = await store.runTransaction(async (tx) => {
        const job = await tx.getJob('j1');
        tx.setChunk(makeChunk('j1', 0));
        tx.incrementJob('j1', { counters: { uploadedChunks: 1 } }, { updatedAt: 5 });
        tx.incrementJob('j1', { counters: { uploadedChunks: 1, bytesUploaded: 10 } });
        tx.setSchedule(makeSchedule());
        tx.deleteSnapshot('old');
        return job?.id;
      });
      expect(result).toBe('j1');
      expect(db.transactionOptions).toEqual([{ maxAttempts: 25 }]);
      const [writes] = db.commits;
      expect(writes?.map((w) => [w.kind, w.path])).toEqual([
        ['set', `envs/test/backupJobs/j1/chunks/${makeChunk('j1', 0).id}`],
        ['update', 'envs/test/backupJobs/j1'],
        ['set', 'envs/test/schedules/sched-1'],
        ['delete', 'envs/test/snapshots/old'],
      ]);
      const update = writes?.[1];
      if (update?.kind !== 'update') throw new Error('expected an update');
      expect((update.data['progress.uploadedChunks'] as FieldValue).isEqual(FieldValue.increment(2))).toBe(true);
      expect((update.data['progress.bytesUploaded'] as FieldValue).isEqual(FieldValue.increment(10))).toBe(true);
      expect(update.data.updatedAt).toBe(5);
    });

    it('writes one document for a job set and incremented in the same transaction', async () => {
      await store.runTransaction(async (tx) => {
        tx.setJob(makeJob({ id: 'j1' }));
        tx.incrementJob('j1', { counters: { uploadedChunks: 2 } });
      });
      expect(db.commits[0]).toHaveLength(1);
      expect((await store.getJob('j1'))?.progress.uploadedChunks).toBe(2);
    });

    it('refuses a read after a write with failed-precondition and commits nothing', async () => {
      await expect(
        store.runTransaction(async (tx) => {
          tx.setJob(makeJob({ id: 'j1' }));
          await tx.getSchedule('s');
        }),
      ).rejects.toMatchObject({ code: 'failed-precondition' });
      expect(db.commits).toEqual([]);
    });

    it('refuses any call once the function has returned', async () => {
      let leaked: Parameters<Parameters<FirestoreJobStore['runTransaction']>[0]>[0] | undefined;
      await store.runTransaction(async (tx) => {
        leaked = tx;
      });
      expect(() => leaked?.setJob(makeJob())).toThrow(expect.objectContaining({ code: 'failed-precondition' }));
      await expect(leaked?.getJob('j1')).rejects.toMatchObject({ code: 'failed-precondition' });
    });

    it('refuses 501 writes with invalid-argument, committing nothing', async () => {
      const chunks = Array.from({ length: 501 }, (_, i) => makeChunk('j1', i));
      await expect(
        store.runTransaction(async (tx) => {
          for (const chunk of chunks) tx.setChunk(chunk);
        }),
      ).rejects.toMatchObject({ code: 'invalid-argument' });
      expect(db.commits).toEqual([]);
      await store.runTransaction(async (tx) => {
        for (const chunk of chunks.slice(0, 500)) tx.setChunk(chunk);
      });
      expect(db.commits[0]).toHaveLength(500);
    });

    it('rejects with the function’s own error, unchanged', async () => {
      const boom = new Error('boom');
      await expect(store.runTransaction(async () => Promise.reject(boom))).rejects.toBe(boom);
    });

    it('maps the SDK’s final failures: ABORTED after its attempts, NOT_FOUND for an increment of a missing job', async () => {
      db.failNext = grpcError(10, 'ABORTED: too much contention');
      await expect(store.runTransaction(async (tx) => tx.setJob(makeJob()))).rejects.toMatchObject({ code: 'aborted', retryable: true });
      await expect(
        store.runTransaction(async (tx) => tx.incrementJob('ghost', { counters: { uploadedChunks: 1 } })),
      ).rejects.toMatchObject({ code: 'not-found', retryable: false });
    });

    it('refuses a bad increment at the call', async () => {
      await expect(
        store.runTransaction(async (tx) => tx.incrementJob('j1', { counters: { nope: 1 } as never })),
      ).rejects.toMatchObject({ code: 'invalid-argument' });
    });

    it('does not start a transaction whose signal has fired', async () => {
      let ran = false;
      await expect(
        store.runTransaction(
          async () => {
            ran = true;
          },
          { signal: aborted() },
        ),
      ).rejects.toMatchObject({ code: 'cancelled' });
      expect(ran).toBe(false);
      expect(db.transactionOptions).toEqual([]);
    });

    it('reads chunks in the order asked, null where absent', async () => {
      const [a, b] = [makeChunk('j1', 0), makeChunk('j1', 1)];
      db.docs.set(`envs/test/backupJobs/j1/chunks/${a.id}`, toDocument(a));
      db.docs.set(`envs/test/backupJobs/j1/chunks/${b.id}`, toDocument(b));
      const got = await store.runTransaction((tx) => tx.getChunks('j1', [b.id, 'f'.repeat(64), a.id]));
      expect(got).toStrictEqual([b, null, a]);
    });
  });

  describe('queries', () => {
    const sameIndex = (query: RecordedQuery, index: (typeof FIRESTORE_QUERIES)[number]): boolean => {
      const collection = query.collection.slice(query.collection.lastIndexOf('/') + 1);
      // An index lists equality fields first, then the ordered fields in query order.
      const fields = [
        ...query.filters.filter((f) => f.op === '==').map((f) => [f.field, 'ASCENDING']),
        ...query.orders.filter((o) => o.field !== '__name__').map((o) => [o.field, o.direction === 'asc' ? 'ASCENDING' : 'DESCENDING']),
      ];
      return collection === index.collectionGroup && JSON.stringify(fields) === JSON.stringify(index.fields.map((f) => [f.fieldPath, f.order]));
    };

    it('runs each composite query FIRESTORE_QUERIES lists, and no other', async () => {
      await store.listJobs({ uid: 'u1' });
      await store.listJobs({ uid: 'u1', status: 'running' });
      await store.listSnapshots({ uid: 'u1' });
      await store.listDueSchedules({ dueBy: 5 });
      await store.listChunks('j1');
      await store.listSchedules('u1');
      await store.listChunkIndex({ uid: 'u1' });
      await store.listChunkBatches('j1');
      await store.chunkTotals('j1');
      await store.deleteUserDocuments('u1', 10);
      for (const query of db.queries) {
        expect(query.collection.startsWith('envs/test/')).toBe(true);
        const equalities = query.filters.filter((f) => f.op === '==').length;
        const ordered = query.orders.filter((o) => o.field !== '__name__').length;
        // One equality alone, or one orderBy alone, is served by the automatic single-field indexes.
        const composite = equalities + ordered > 1;
        expect([query.collection, composite && FIRESTORE_QUERIES.filter((index) => sameIndex(query, index)).length]).toEqual([
          query.collection,
          composite ? 1 : false,
        ]);
      }
      // An aggregation's sum needs the filtered and the summed field in one index.
      const sums = db.aggregations.flatMap((a) =>
        Object.values(a.aggregate).filter((f) => f.startsWith('sum(')).map((f) => ({ ...a, orders: [{ field: f.slice(4, -1), direction: 'asc' as const }] })),
      );
      for (const query of sums) expect(FIRESTORE_QUERIES.filter((index) => sameIndex(query, index))).toHaveLength(1);
      const used = FIRESTORE_QUERIES.filter((index) => [...db.queries, ...sums].some((query) => sameIndex(query, index)));
      expect(used).toEqual(FIRESTORE_QUERIES);
    });

    it('lists FIRESTORE_QUERIES in the shape of firestore.indexes.json entries', () => {
      for (const index of FIRESTORE_QUERIES) {
        expect(index).toEqual({
          usedBy: expect.any(String),
          collectionGroup: expect.stringMatching(/^[A-Za-z]+$/),
          queryScope: 'COLLECTION',
          fields: expect.arrayContaining([expect.objectContaining({ fieldPath: expect.any(String) })]),
        });
        expect(index.fields.length).toBeGreaterThan(1);
        for (const field of index.fields) expect(['ASCENDING', 'DESCENDING']).toContain(field.order);
      }
    });

    it('pages jobs by asking one more than the page and continuing after the last sort key', async () => {
      for (let i = 0; i < 5; i += 1) await store.createJob(makeJob({ id: `j${i}`, createdAt: 100 + Math.floor(i / 2) }));
      await store.createJob(makeJob({ id: 'other', uid: 'u2' }));
      const first = await store.listJobs({ uid: 'u1', limit: 2 });
      expect(db.queries[0]?.limit).toBe(3);
      expect(first.items.map((j) => j.id)).toEqual(['j4', 'j3']);
      const second = await store.listJobs({ uid: 'u1', limit: 2, cursor: first.nextCursor ?? '' });
      expect(db.queries[1]?.startAfter).toEqual([101, 'j3']);
      expect(second.items.map((j) => j.id)).toEqual(['j2', 'j1']);
      const third = await store.listJobs({ uid: 'u1', limit: 2, cursor: second.nextCursor ?? '' });
      expect(third).toStrictEqual({ items: [makeJob({ id: 'j0', createdAt: 100 })] });
    });

    it('pages chunks by index then document id, and chunk index entries by key', async () => {
      await store.runTransaction(async (tx) => {
        for (const i of [3, 1, 2, 0]) tx.setChunk(makeChunk('j1', i));
      });
      const first = await store.listChunks('j1', { limit: 3 });
      expect(first.items.map((c) => c.index)).toEqual([0, 1, 2]);
      expect(db.queries[0]?.orders).toEqual([
        { field: 'index', direction: 'asc' },
        { field: '__name__', direction: 'asc' },
      ]);
      const rest = await store.listChunks('j1', { limit: 3, cursor: first.nextCursor ?? '' });
      expect(rest.items.map((c) => c.index)).toEqual([3]);
      expect(db.queries[1]?.startAfter).toEqual([2, makeChunk('j1', 2).id]);

      for (const key of ['b', 'a', 'c']) await store.putChunkIndex(makeChunkIndexEntry({ key }));
      const keys = await store.listChunkIndex({ uid: 'u1', limit: 2 });
      expect(keys.items.map((e) => e.key)).toEqual(['a', 'b']);
      expect((await store.listChunkIndex({ uid: 'u1', limit: 2, cursor: keys.nextCursor ?? '' })).items.map((e) => e.key)).toEqual(['c']);
    });

    it('refuses bad limits and foreign cursors before querying', async () => {
      await expect(store.listJobs({ uid: 'u1', limit: 101 })).rejects.toMatchObject({ code: 'invalid-argument' });
      await expect(store.listSnapshots({ uid: 'u1', cursor: 'nope' })).rejects.toMatchObject({ code: 'invalid-argument' });
      await expect(store.getChunkIndex('u1', Array.from({ length: 501 }, (_, i) => `k${i}`))).rejects.toMatchObject({
        code: 'invalid-argument',
      });
      expect(db.queries).toEqual([]);
    });

    it('lists due schedules enabled and due, earliest first', async () => {
      await store.runTransaction(async (tx) => {
        tx.setSchedule(makeSchedule({ id: 'late', nextRunAt: 300 }));
        tx.setSchedule(makeSchedule({ id: 'early', nextRunAt: 100 }));
        tx.setSchedule(makeSchedule({ id: 'off', nextRunAt: 50, enabled: false }));
      });
      expect((await store.listDueSchedules({ dueBy: 300 })).map((s) => s.id)).toEqual(['early', 'late']);
      expect(db.queries[0]?.limit).toBe(50);
    });
  });

  it('looks up chunk index keys in one getAll, null where absent, and deletes them in one batch', async () => {
    const a = makeChunkIndexEntry({ key: 'media:q75:a' });
    await store.putChunkIndex(a);
    expect(await store.getChunkIndex('u1', ['media:q75:zz', 'media:q75:a'])).toStrictEqual([null, a]);
    expect(await store.getChunkIndex('u1', [])).toEqual([]);
    await store.deleteChunkIndex('u1', ['media:q75:a', 'never']);
    expect(db.commits.at(-1)).toEqual([
      { kind: 'delete', path: 'envs/test/users/u1/chunkIndex/media:q75:a' },
      { kind: 'delete', path: 'envs/test/users/u1/chunkIndex/never' },
    ]);
    expect(await store.getChunkIndex('u1', ['media:q75:a'])).toEqual([null]);
  });

  it('refuses calls whose signal has fired', async () => {
    await expect(store.getJob('j1', { signal: aborted() })).rejects.toMatchObject({ code: 'cancelled' });
    await expect(store.createJob(makeJob(), { signal: aborted() })).rejects.toMatchObject({ code: 'cancelled' });
    expect(db.docs.size).toBe(0);
  });

  it('keeps snapshots under the root', async () => {
    await store.runTransaction(async (tx) => tx.setSnapshot(makeSnapshot()));
    expect([...db.docs.keys()]).toEqual(['envs/test/snapshots/snap-1']);
  });
});
