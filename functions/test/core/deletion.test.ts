/**
 * Deleting a user's data (core/deletion, docs/invariants.md "Deletion") on the engine over the
 * in-memory fakes, with encryption at rest: the key goes first, a running backup ends cancelled,
 * then nothing of the user is left in any store while another user keeps everything; deleting
 * twice is harmless, a deletion stopped by its time budget carries on, new data is refused while
 * it settles. And deleting one snapshot.
 */
import { randomBytes } from 'node:crypto';
import { ContentStore } from '../../src/core/content-store';
import { continuePendingDeletions, deleteUserData } from '../../src/core/deletion';
import { masterKey, WrappedKeyRing } from '../../src/core/encryption/wrapped-key-ring';
import { onChunkUploaded } from '../../src/core/events/chunk-uploaded';
import { uploadKey } from '../../src/core/keys';
import { override } from '../../src/core/override';
import { restoreItems, restoredBytes } from '../../src/core/snapshots/restore-items';
import type { JobStore } from '../../src/ports';
import { contactsChunk, createHarness, describeChunk, type Harness } from '../fakes/engine-harness';
import type { MemoryJobStore } from '../fakes/memory-job-store';

function setup(settleMs = 0): Harness & { content: ContentStore } {
  const h = createHarness();
  h.deps.keyRing = new WrappedKeyRing(h.blobs, { current: masterKey(new Uint8Array(randomBytes(32))), now: h.clock.now });
  h.deps.deletionSettleMs = settleMs;
  return Object.assign(h, { content: new ContentStore(h.blobs, h.deps.keyRing) });
}

/** A completed contacts backup of `uid`; its job id and snapshot id. */
async function backup(h: Harness, uid: string, ids: string[]): Promise<{ jobId: string; snapshotId: string }> {
  const bytes = contactsChunk(ids);
  const chunk = describeChunk('contacts', bytes, ids.length);
  const { job } = await h.call('createBackupJob', uid, { deviceId: `${uid}-phone`, types: ['contacts'] });
  await h.call('registerChunks', uid, { jobId: job.id, chunks: [chunk] });
  const { uploadUrl } = await h.call('beginChunkUpload', uid, { jobId: job.id, chunkId: chunk.id });
  if (uploadUrl) await h.upload(uploadUrl, bytes);
  await h.call('commitUpload', uid, { jobId: job.id, chunkCount: 1 });
  await h.drain();
  const { job: done } = await h.call('getBackupJob', uid, { jobId: job.id });
  expect(done.status).toBe('completed');
  return { jobId: job.id, snapshotId: done.snapshotId as string };
}

/** Everything of a user a backup app leaves: two backups, a schedule, a device token, a retention policy, and a backup under way with an open upload session. */
async function lifeOf(h: Harness, uid: string) {
  const first = await backup(h, uid, [`${uid}-c1`, `${uid}-c2`]);
  const second = await backup(h, uid, [`${uid}-c1`, `${uid}-c3`]);
  await h.call('setSchedule', uid, { deviceId: `${uid}-phone`, kind: 'nightly', types: ['contacts'], timeZone: 'Europe/London' });
  await h.call('registerDevice', uid, { deviceId: `${uid}-phone`, fcmToken: `token-of-${uid}` });
  await h.call('setRetentionPolicy', uid, { policy: { keepLast: 5 } });
  const bytes = contactsChunk([`${uid}-c9`]);
  const chunk = describeChunk('contacts', bytes, 1);
  const { job: running } = await h.call('createBackupJob', uid, { deviceId: `${uid}-phone`, types: ['contacts'] });
  await h.call('registerChunks', uid, { jobId: running.id, chunks: [chunk] });
  await h.drain();
  const { uploadUrl } = await h.call('beginChunkUpload', uid, { jobId: running.id, chunkId: chunk.id });
  expect((await h.call('getBackupJob', uid, { jobId: running.id })).job.status).toBe('running');
  return { first, second, running: { jobId: running.id as string, chunkId: chunk.id, bytes, uploadUrl: uploadUrl as string } };
}

/** Every place the engine keeps data, as text: documents, object keys (and plaintext settings), upload sessions. */
async function everything(h: Harness): Promise<string[]> {
  const out = (h.store as unknown as MemoryJobStore).dump();
  for await (const info of h.blobs.list('')) out.push(`object ${info.key}`);
  for (const [url, session] of h.uploads.sessions) out.push(`session ${url} ${JSON.stringify(session)}`);
  return out;
}

async function restoreAll(h: Harness & { content: ContentStore }, uid: string, snapshotId: string): Promise<string[]> {
  const snapshot = await h.store.getSnapshot(snapshotId);
  const lines: string[] = [];
  for await (const item of restoreItems(h.content, snapshot as NonNullable<typeof snapshot>)) {
    expect(item.failure).toBeUndefined();
    lines.push(new TextDecoder().decode((await restoredBytes(item)) ?? new Uint8Array()));
  }
  expect(lines.length).toBeGreaterThan(0);
  expect(lines.every((l) => l.includes(uid))).toBe(true);
  return lines;
}

describe('deleteMyData', () => {
  it('destroys the key first, cancels the running backup, then leaves nothing of the user; the other user keeps everything', async () => {
    const h = setup();
    const alice = await lifeOf(h, 'alice');
    const bob = await lifeOf(h, 'bob');
    const bobBefore = (await everything(h)).filter((line) => line.includes('bob'));
    const aliceBlob = (await (async () => { for await (const i of restoreItems(h.content, (await h.store.getSnapshot(alice.first.snapshotId))!)) return i.item.blob; })()) as string;
    expect((await everything(h)).some((line) => line.includes('alice'))).toBe(true);

    // What the store is asked to delete first shows the order: the job was cancelled and the key destroyed before it.
    const seenBeforeReclaim: string[] = [];
    const store = h.deps.store;
    h.deps.store = override<JobStore>(store, {
      deleteUserDocuments: async (uid, limit, options) => {
        if (seenBeforeReclaim.length === 0) {
          const job = await store.getJob(alice.running.jobId);
          seenBeforeReclaim.push(`job ${job?.status} ${job?.lastError?.message}`);
          await h.content.get('alice', aliceBlob).then(
            () => seenBeforeReclaim.push('alice readable'),
            (err: { code?: string; message?: string }) => seenBeforeReclaim.push(`alice unreadable: ${err.code}`),
          );
          // A cached key elsewhere in this process is gone too: a fresh content store cannot read it either.
          await new ContentStore(h.blobs, h.deps.keyRing).get('alice', aliceBlob).catch((err: { code?: string }) => seenBeforeReclaim.push(`fresh reader: ${err.code}`));
        }
        return store.deleteUserDocuments(uid, limit, options);
      },
    });
    const { deletion } = await h.call('deleteMyData', 'alice', { confirm: true });
    expect(seenBeforeReclaim).toEqual(['job cancelled the user\'s data is being deleted', 'alice unreadable: failed-precondition', 'fresh reader: failed-precondition']);
    expect(deletion).toMatchObject({ uid: 'alice', status: 'done', reason: 'user-request', removed: { jobsCancelled: 1, devices: 1, uploadSessions: 3 } });
    expect(deletion.removed.documents).toBeGreaterThanOrEqual(3 + 2 + 1);
    h.deps.store = store;

    // The queue still holds the cancelled job's work; running it recreates nothing.
    const bytesLate = alice.running.bytes;
    await h.upload(alice.running.uploadUrl, bytesLate).catch(() => undefined);
    await h.drain();
    const left = await everything(h);
    expect(left.filter((line) => line.includes('alice') || line.includes(alice.running.jobId) || line.includes(alice.first.jobId))).toEqual([]);
    expect(left.filter((line) => line.includes('bob'))).toEqual(bobBefore);
    expect(await restoreAll(h, 'bob', bob.second.snapshotId)).toHaveLength(2);

    // Twice is harmless, and the user may start afresh.
    const again = await h.call('deleteMyData', 'alice', { confirm: true });
    expect(again.deletion).toMatchObject({ status: 'done', removed: { jobsCancelled: 0, documents: 0, devices: 0, uploadSessions: 0 } });
    const fresh = await backup(h, 'alice', ['alice-new']);
    expect(await restoreAll(h, 'alice', fresh.snapshotId)).toHaveLength(1);
    expect(await restoreAll(h, 'bob', bob.first.snapshotId)).toHaveLength(2);
  });

  it('asks for confirmation', async () => {
    const h = setup();
    await expect(h.call('deleteMyData', 'alice', {})).rejects.toMatchObject({ code: 'invalid-argument', message: expect.stringMatching(/cannot be undone: pass confirm: true/) });
    await expect(h.call('deleteMyData', null, { confirm: true })).rejects.toMatchObject({ code: 'unauthenticated' });
  });

  it('refuses new data while it settles; a later run ends it and the user may start again', async () => {
    const h = setup(10 * 60_000);
    await lifeOf(h, 'alice');
    const { deletion } = await h.call('deleteMyData', 'alice', { confirm: true });
    expect(deletion).toMatchObject({ status: 'reclaimed', settlesAt: deletion.startedAt + 10 * 60_000 });
    for (const [name, data] of [
      ['createBackupJob', { deviceId: 'p', types: ['contacts'] }],
      ['setSchedule', { deviceId: 'p', kind: 'nightly', types: ['contacts'], timeZone: 'UTC' }],
      ['registerDevice', { deviceId: 'p', fcmToken: 't' }],
      ['setRetentionPolicy', { policy: null }],
    ] as const) {
      await expect(h.call(name, 'alice', data)).rejects.toMatchObject({ code: 'failed-precondition', details: { reason: 'deletion-in-progress', retryAfterMs: 10 * 60_000 } });
    }
    // Other users are not held up.
    await backup(h, 'bob', ['bob-1']);
    // The record and the key's tombstone are all that is left of alice until it settles.
    expect((await everything(h)).filter((line) => line.includes('alice'))).toEqual(['object deletions/alice', 'object keys/alice/data-key']);
    h.clock.advance(10 * 60_000);
    const reports = await continuePendingDeletions(h.deps);
    expect(reports.map((r) => [r.uid, r.status])).toEqual([['alice', 'done']]);
    expect((await everything(h)).filter((line) => line.includes('alice'))).toEqual([]);
    await backup(h, 'alice', ['alice-again']);
  });

  it('carries on from what is left when a run stops at its time budget', async () => {
    const h = setup();
    await lifeOf(h, 'alice');
    // Each object deletion takes 15 s of the call's 40 s.
    const blobs = h.deps.blobs;
    h.deps.blobs = override(blobs, { delete: async (key, options) => { h.clock.advance(15_000); return blobs.delete(key, options); } });
    const statuses: string[] = [];
    for (let calls = 0; ; calls++) {
      if (calls > 50) throw new Error('deleteMyData never finishes');
      const { deletion } = await h.call('deleteMyData', 'alice', { confirm: true });
      statuses.push(deletion.status);
      if (deletion.status !== 'running') break;
    }
    expect(statuses.length).toBeGreaterThan(2);
    expect(statuses.at(-1)).toBe('done');
    expect((await everything(h)).filter((line) => line.includes('alice'))).toEqual([]);
  });

  it('removes a raw upload that lands after its job was cancelled or deleted', async () => {
    const h = setup();
    const { running } = await lifeOf(h, 'alice');
    await h.call('cancelBackup', 'alice', { jobId: running.jobId });
    const key = uploadKey('alice', running.jobId, running.chunkId);
    await h.blobs.put(key, running.bytes);
    await onChunkUploaded(h.deps, { uid: 'alice', jobId: running.jobId, chunkId: running.chunkId, key, size: running.bytes.byteLength });
    expect(await h.blobs.exists(key)).toBe(false);
    // Another user's event naming alice's job touches nothing.
    await h.blobs.put(key, running.bytes);
    await onChunkUploaded(h.deps, { uid: 'bob', jobId: running.jobId, chunkId: running.chunkId, key, size: running.bytes.byteLength });
    expect(await h.blobs.exists(key)).toBe(true);
  });

  it('refuses a uid that is not a key segment', async () => {
    const h = setup();
    await expect(deleteUserData(h.deps, '../bob')).rejects.toMatchObject({ code: 'invalid-argument' });
  });
});

describe('deleteSnapshot', () => {
  it('deletes the record at once and frees what no other snapshot needs; twice is harmless; never another user\'s', async () => {
    const h = setup();
    const alice = await lifeOf(h, 'alice');
    await expect(h.call('deleteSnapshot', 'bob', { snapshotId: alice.first.snapshotId })).rejects.toMatchObject({ code: 'permission-denied' });
    // The running backup makes GC defer: the record goes, the data stays for a later run.
    const deferred = await h.call('deleteSnapshot', 'alice', { snapshotId: alice.first.snapshotId });
    expect(deferred).toMatchObject({ snapshotId: alice.first.snapshotId, deleted: true, gc: { status: 'deferred' } });
    expect((await h.call('listSnapshots', 'alice', {})).snapshots.map((s) => s.id)).toEqual([alice.second.snapshotId]);
    await expect(h.call('getSnapshot', 'alice', { snapshotId: alice.first.snapshotId })).rejects.toMatchObject({ code: 'not-found' });
    expect(await h.call('deleteSnapshot', 'alice', { snapshotId: alice.first.snapshotId })).toMatchObject({ deleted: false });

    await h.call('cancelBackup', 'alice', { jobId: alice.running.jobId });
    h.clock.advance(2 * 3_600_000);
    const blobsBefore: string[] = [];
    for await (const info of h.blobs.list('users/alice/blobs/')) blobsBefore.push(info.key);
    const done = await h.call('deleteSnapshot', 'alice', { snapshotId: alice.first.snapshotId });
    expect(done.gc).toMatchObject({ status: 'done' });
    // The first snapshot's own pack (c1, c2) and segment are gone; the second still restores whole.
    expect('deletedBlobs' in done.gc && done.gc.deletedBlobs).toBeGreaterThan(0);
    expect(await restoreAll(h, 'alice', alice.second.snapshotId)).toEqual([expect.stringContaining('alice-c1'), expect.stringContaining('alice-c3')]);
  });
});
