/**
 * Deleting a user's data on the Firebase adapters, over the recording fake of the Firestore SDK:
 * `FirestoreJobStore.deleteUserDocuments` and `FirestoreDeviceRegistry.forgetUser`, driven by the
 * engine's `deleteUserData`, leave no document of the user and every document of another; the
 * queries they send need no composite index.
 */
import { randomBytes } from 'node:crypto';
import { FirestoreJobStore } from '../../src/adapters';
import { FirestoreDeviceRegistry } from '../../src/adapters/firestore-device-registry';
import { deleteUserData } from '../../src/core/deletion';
import { masterKey, WrappedKeyRing } from '../../src/core/encryption/wrapped-key-ring';
import { ContentStore } from '../../src/core/content-store';
import { silentLogger } from '../../src/ports';
import { hexId, makeChunk, makeChunkIndexEntry, makeJob, makeSchedule, makeSnapshot } from '../conformance/fixtures';
import { MemoryUploadSessions } from '../fakes/engine-harness';
import { MemoryBlobStore } from '../fakes/memory-blob-store';
import { FakeFirestore } from './fake-firestore';

async function seed(store: FirestoreJobStore, devices: FirestoreDeviceRegistry, uid: string, tag: string): Promise<void> {
  for (const n of [1, 2]) await store.createJob(makeJob({ id: `${tag}-job-${n}`, uid, status: n === 2 ? 'running' : 'completed' }));
  await store.runTransaction(async (tx) => {
    for (const i of [0, 1, 2]) tx.setChunk(makeChunk(`${tag}-job-1`, i, { uid }));
    tx.setChunkBatch({
      id: hexId(tag.length * 7), jobId: `${tag}-job-2`, uid, firstIndex: 0,
      chunks: [{ id: hexId(9), index: 0, type: 'contacts', size: 1, items: 1, resultRef: hexId(8), processedItems: 1, skippedItems: 0 }],
      totals: { chunks: 1, items: 1, skipped: 0, bytes: 1 }, createdAt: 1,
    });
    tx.setSnapshot(makeSnapshot({ id: `${tag}-snap`, uid, jobId: `${tag}-job-1` }));
    tx.setSchedule(makeSchedule({ id: `${tag}-sched`, uid }));
  });
  for (const n of [1, 2]) await store.putChunkIndex(makeChunkIndexEntry({ uid, key: `contacts:v1:${hexId(n)}` }));
  await devices.setToken(uid, `${tag}-phone`, `token-${tag}`);
  await devices.setToken(uid, `${tag}-tablet`, `token-${tag}-2`);
}

describe('deleting a user on the Firestore adapters (recording fake)', () => {
  it('leaves no document of the user and every document of another, with single-field queries only', async () => {
    const db = new FakeFirestore();
    const store = new FirestoreJobStore(db.asFirestore(), { root: 'envs/test' });
    const devices = new FirestoreDeviceRegistry(db.asFirestore(), { root: 'envs/test', now: () => 1 });
    await seed(store, devices, 'alice', 'alice');
    await seed(store, devices, 'bob', 'bob');
    const blobs = new MemoryBlobStore();
    const keyRing = new WrappedKeyRing(blobs, { current: masterKey(new Uint8Array(randomBytes(32))) });
    const content = new ContentStore(blobs, keyRing);
    await content.put('alice', new TextEncoder().encode('alice photo'));
    await content.put('bob', new TextEncoder().encode('bob photo'));
    const ofBob = ([path, data]: [string, unknown]) => path.includes('bob') || JSON.stringify(data).includes('bob');
    const bobDocs = [...db.docs].filter(ofBob);
    const aliceDocs = [...db.docs].filter(([path, data]) => path.includes('/alice/') || JSON.stringify(data).includes('alice'));
    expect(aliceDocs.length).toBe(2 + 3 + 1 + 1 + 1 + 2 + 2);

    db.queries.length = 0;
    let now = 1_000;
    const report = await deleteUserData({ store, blobs, uploads: new MemoryUploadSessions(), keyRing, devices, clock: { now: () => now++ }, logger: silentLogger, deletionSettleMs: 0 }, 'alice');
    expect(report).toMatchObject({ status: 'done', removed: { jobsCancelled: 1, documents: 2 + 3 + 1 + 1 + 1 + 2, devices: 2 } });
    const left = [...db.docs].map(([path, data]) => `${path} ${JSON.stringify(data)}`);
    expect(left.filter((line) => line.includes('alice'))).toEqual([]);
    expect([...db.docs].filter(ofBob)).toEqual(bobDocs);
    expect(await store.getJob('bob-job-2')).toMatchObject({ status: 'running' });
    const objects: string[] = [];
    for await (const info of blobs.list('')) objects.push(info.key);
    expect(objects.filter((k) => k.includes('alice'))).toEqual([]);
    expect(objects.filter((k) => k.includes('bob'))).toHaveLength(2);
    // Equality on uid alone, or no filter (single-field indexes), besides listJobs by status, whose index FIRESTORE_QUERIES has.
    for (const query of db.queries) {
      const fields = [...query.filters.map((f) => `${f.field}${f.op}`), ...query.orders.filter((o) => o.field !== '__name__').map((o) => `${o.field} ${o.direction}`)];
      expect([query.collection, fields.length <= 1 || JSON.stringify(fields) === JSON.stringify(['uid==', 'status==', 'createdAt desc', 'id desc'])]).toEqual([query.collection, true]);
    }
    expect(db.queries.some((q) => q.collection === 'envs/test/users/alice/devices')).toBe(true);
  });

  it('deletes in bounded batches and reports whether any is left', async () => {
    const db = new FakeFirestore();
    const store = new FirestoreJobStore(db.asFirestore());
    await store.createJob(makeJob({ id: 'j', uid: 'alice' }));
    await store.runTransaction(async (tx) => {
      for (const i of [0, 1, 2, 3, 4]) tx.setChunk(makeChunk('j', i, { uid: 'alice' }));
    });
    expect(await store.deleteUserDocuments('alice', 5)).toEqual({ deleted: 5, more: true });
    expect(db.docs.has('backupJobs/j')).toBe(true);
    expect(await store.deleteUserDocuments('alice', 5)).toEqual({ deleted: 1, more: false });
    expect([...db.docs.keys()]).toEqual([]);
    expect(db.commits.every((c) => c.length <= 5)).toBe(true);
  });
});
