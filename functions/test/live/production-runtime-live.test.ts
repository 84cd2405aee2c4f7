/**
 * The production composition root on the live project: `createProductionRuntime` over the real
 * Firestore database and buckets (its task queue kept local, so nothing runs in the deployed
 * functions and the test sees every step), driving one backup through the engine as the deployed
 * functions would: a real resumable upload session PUT to, the finalized object read back, the
 * steps run, the snapshot verified and planned for restore. Then the schedules' own queries run
 * against the deployed indexes. Everything written belongs to a throwaway user and is removed.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Firestore } from '@google-cloud/firestore';
import { Storage } from '@google-cloud/storage';
import type { Functions } from 'firebase-admin/functions';
import type { Messaging } from 'firebase-admin/messaging';
import { parseUploadObject } from '../../src/adapters/gcs-upload-sessions';
import { API_HANDLERS, onChunkUploaded, onJobCreated, taskDefinitions, type ApiName } from '../../src/core';
import { createProductionRuntime } from '../../src/firebase/runtime/production-backend';
import { silentLogger, type QueueName, type TaskPayload } from '../../src/ports';
import { contactsChunk, describeChunk } from '../fakes/engine-harness';
import { describeLive } from './live-project';

describeLive('createProductionRuntime on the live project', (live) => {
  const uid = `lifeboat-live-${randomUUID()}`;
  const db = new Firestore({ projectId: live.project, databaseId: live.database });
  const storage = new Storage({ projectId: live.project });
  const blobsBucket = storage.bucket(live.blobsBucket);
  const uploadsBucket = storage.bucket(live.uploadsBucket);
  const pending: Array<{ queue: string; data: TaskPayload }> = [];
  const functions = { taskQueue: (queue: string) => ({ enqueue: async (data: TaskPayload) => void pending.push({ queue, data }), delete: async () => {} }) } as unknown as Functions;
  const runtime = createProductionRuntime(
    { db, appDb: db, blobsBucket, uploadsBucket, functions, messaging: { send: async () => 'unused' } as unknown as Messaging, events: null },
    { region: live.region, masterKeys: randomBytes(32).toString('hex'), downloadBaseUrl: () => 'https://example.invalid/downloadBlob', mediaHosts: '', chatMessagesPath: '', chatParticipantsField: 'participants', eventSource: '//lifeboat/live-test' },
    silentLogger,
  );
  const { deps } = runtime;
  const definitions = taskDefinitions(deps);
  const call = <N extends ApiName>(name: N, data: unknown) => API_HANDLERS[name]({ auth: { uid }, data }, deps) as ReturnType<(typeof API_HANDLERS)[N]>;
  const drain = async () => {
    while (pending.length > 0) {
      const task = pending.shift() as { queue: string; data: TaskPayload };
      const definition = definitions.find((d) => task.queue.endsWith(`${d.name}Task`));
      await definition?.handler(task.data, { queue: definition.name as QueueName, taskId: 'live', retryCount: 0 });
    }
  };

  afterAll(async () => {
    // Everything the throwaway user left: documents, blobs, uploads, keys.
    for (const collection of ['backupJobs', 'snapshots', 'schedules']) {
      const found = await db.collection(collection).where('uid', '==', uid).get();
      for (const doc of found.docs) await db.recursiveDelete(doc.ref);
    }
    await db.recursiveDelete(db.doc(`users/${uid}`));
    for (const [bucket, prefix] of [[blobsBucket, `users/${uid}/`], [blobsBucket, `keys/${uid}`], [uploadsBucket, `uploads/${uid}/`]] as const) await bucket.deleteFiles({ prefix, force: true });
    await db.terminate();
  }, 120_000);

  it('backs up through the real database and buckets, then verifies and plans the restore', async () => {
    const bytes = contactsChunk(['l1', 'l2', 'l3']);
    const chunk = describeChunk('contacts', bytes, 3);
    const { job } = await call('createBackupJob', { deviceId: 'live-test', types: ['contacts'], options: { wifiOnly: false } });
    await onJobCreated(deps, job); // Firestore's onDocumentCreated, played here
    await drain();
    await call('registerChunks', { jobId: job.id, chunks: [chunk] });
    const { uploadUrl } = await call('beginChunkUpload', { jobId: job.id, chunkId: chunk.id });
    // The device's PUT, to a real GCS resumable session.
    const put = await fetch(uploadUrl as string, { method: 'PUT', headers: { 'content-range': `bytes 0-${bytes.byteLength - 1}/${bytes.byteLength}` }, body: Buffer.from(bytes) });
    expect([200, 201]).toContain(put.status);
    const [metadata] = await uploadsBucket.file(`uploads/${uid}/${job.id}/${chunk.id}`).getMetadata();
    const upload = parseUploadObject({ name: metadata.name as string, size: metadata.size as string, metadata: metadata.metadata as Record<string, string> });
    expect(upload).not.toBeNull();
    await onChunkUploaded(deps, upload as NonNullable<typeof upload>); // the storage trigger, played here
    await call('commitUpload', { jobId: job.id, chunkCount: 1 });
    await drain();
    const { job: done } = await call('getBackupJob', { jobId: job.id });
    expect(done).toMatchObject({ status: 'completed', progress: { processedItems: 3 } });
    expect((await call('verifySnapshot', { snapshotId: done.snapshotId as string })).report).toMatchObject({ ok: true });
    const plan = await call('getRestorePlan', { snapshotId: done.snapshotId as string });
    expect(plan.items).toHaveLength(3);
    // Blobs in the blobs bucket, nothing of this user's in the uploads bucket once finalized.
    const [blobs] = await blobsBucket.getFiles({ prefix: `users/${uid}/` });
    expect(blobs.length).toBeGreaterThan(0);
  }, 300_000);

  it('runs the schedules\' own queries on the deployed indexes', async () => {
    await expect(runtime.findStaleJobs({ statuses: ['queued', 'running'], updatedBefore: 0, limit: 1 })).resolves.toEqual([]);
    await expect(runtime.findSnapshotOwners(Date.now() - 3_600_000, 5)).resolves.toEqual(expect.any(Array));
    await expect(runtime.findRecentJobOwners?.(Date.now() - 3_600_000, 5)).resolves.toEqual(expect.any(Array));
  }, 60_000);
});
