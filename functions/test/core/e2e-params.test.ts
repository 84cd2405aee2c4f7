/**
 * End-to-end parameters (`getEndToEndParams` / `initEndToEndParams`) and opaque chunk processing
 * on the engine: the first device's salt holds, a second init gets it back; chunks of an
 * end-to-end job are stored as they came, one manifest item each.
 */
import { contentStoreOf } from '../../src/core/deps';
import { sha256Hex } from '../../src/core/hash';
import { restoredBytes, restoreItems } from '../../src/core/snapshots/restore-items';
import { createHarness } from '../fakes/engine-harness';

const params = (salt: string) => ({ version: 1, kdf: { name: 'scrypt', N: 32768, r: 8, p: 1, salt }, keyCheck: 'ab'.repeat(32) });

describe('end-to-end parameters', () => {
  it("are created if absent: a second device gets the first one's salt back", async () => {
    const h = createHarness();
    expect(await h.call('getEndToEndParams', 'uma', {})).toEqual({ params: null });
    const [a, b] = await Promise.all([
      h.call('initEndToEndParams', 'uma', { params: params('11'.repeat(16)) }),
      h.call('initEndToEndParams', 'uma', { params: params('22'.repeat(16)) }),
    ]);
    expect(a.params).toEqual(b.params);
    expect([a.created, b.created].sort()).toEqual([false, true]);
    expect((await h.call('getEndToEndParams', 'uma', {})).params).toEqual(a.params);
    expect((await h.call('getEndToEndParams', 'bob', {})).params).toBeNull();
  });

  it('refuse malformed parameters and anonymous callers, changing nothing', async () => {
    const h = createHarness();
    await expect(h.call('initEndToEndParams', 'uma', { params: { ...params('11'.repeat(16)), kdf: { name: 'scrypt', N: 1000, r: 8, p: 1, salt: '11'.repeat(16) } } })).rejects.toMatchObject({ code: 'invalid-argument' });
    await expect(h.call('initEndToEndParams', 'uma', { params: params('short') })).rejects.toMatchObject({ code: 'invalid-argument' });
    await expect(h.call('initEndToEndParams', null, { params: params('11'.repeat(16)) })).rejects.toMatchObject({ code: 'unauthenticated' });
    expect((await h.call('getEndToEndParams', 'uma', {})).params).toBeNull();
  });
});

describe('changeEndToEndParams', () => {
  const wrapped = (salt: string, check: string) => ({ version: 2, kdf: { name: 'scrypt', N: 32768, r: 8, p: 1, salt }, keyCheck: check.repeat(32), wrappedKey: 'cd'.repeat(60) });

  it('replaces the parameters only with a wrapped key and only over the ones named', async () => {
    const h = createHarness();
    await expect(h.call('changeEndToEndParams', 'vic', { previousKeyCheck: 'ab'.repeat(32), params: wrapped('33'.repeat(16), 'ee') })).rejects.toMatchObject({ code: 'failed-precondition' });
    await h.call('initEndToEndParams', 'vic', { params: params('11'.repeat(16)) });
    // Version 1 would derive another key from the new passphrase and strand every snapshot.
    await expect(h.call('changeEndToEndParams', 'vic', { previousKeyCheck: 'ab'.repeat(32), params: params('44'.repeat(16)) })).rejects.toMatchObject({ code: 'invalid-argument' });
    // A device that read parameters since changed cannot undo the change.
    await expect(h.call('changeEndToEndParams', 'vic', { previousKeyCheck: 'ff'.repeat(32), params: wrapped('33'.repeat(16), 'ee') })).rejects.toMatchObject({ code: 'aborted' });
    expect((await h.call('getEndToEndParams', 'vic', {})).params).toEqual(params('11'.repeat(16)));

    const next = wrapped('33'.repeat(16), 'ee');
    expect(await h.call('changeEndToEndParams', 'vic', { previousKeyCheck: 'ab'.repeat(32), params: next })).toEqual({ params: next });
    expect((await h.call('getEndToEndParams', 'vic', {})).params).toEqual(next);
    await expect(h.call('changeEndToEndParams', 'vic', { previousKeyCheck: 'ab'.repeat(32), params: wrapped('55'.repeat(16), '77') })).rejects.toMatchObject({ code: 'aborted' });
    await expect(h.call('changeEndToEndParams', 'vic', { previousKeyCheck: 'ee'.repeat(32), params: { ...next, wrappedKey: 'cd' } })).rejects.toMatchObject({ code: 'invalid-argument' });
    await expect(h.call('changeEndToEndParams', null, { previousKeyCheck: 'ee'.repeat(32), params: next })).rejects.toMatchObject({ code: 'unauthenticated' });
    expect((await h.call('getEndToEndParams', 'vic', {})).params).toEqual(next);
  });
});

describe('end-to-end chunks on the engine', () => {
  it('stores an opaque chunk as is: one e2e-opaque item, no parsing, verify checks its hash', async () => {
    const h = createHarness();
    // Random-looking bytes no strategy could parse: a contacts strategy would record them as bad.
    const bytes = Uint8Array.from({ length: 777 }, (_, i) => (i * 151 + 7) % 256);
    const { job } = await h.call('createBackupJob', 'eve', { deviceId: 'd', types: ['contacts'], options: { endToEnd: true } });
    const id = sha256Hex(bytes);
    expect((await h.call('registerChunks', 'eve', { jobId: job.id, chunks: [{ id, type: 'contacts', size: bytes.byteLength, items: 40 }] })).missing).toEqual([id]);
    const { uploadUrl } = await h.call('beginChunkUpload', 'eve', { jobId: job.id, chunkId: id });
    await h.upload(uploadUrl as string, bytes);
    await h.call('commitUpload', 'eve', { jobId: job.id, chunkCount: 1 });
    await h.drain();
    const done = await h.store.getJob(job.id);
    expect(done?.status).toBe('completed');
    expect(done?.progress).toMatchObject({ processedItems: 40, totalItems: 40, skippedItems: 0 });
    const snapshot = await h.store.getSnapshot(done?.snapshotId as string);
    if (!snapshot) throw new Error('no snapshot');
    const restored = [];
    for await (const r of restoreItems(contentStoreOf(h.deps), snapshot)) restored.push({ ...r, bytes: await restoredBytes(r) });
    expect(restored).toHaveLength(1);
    expect(restored[0]?.item).toMatchObject({ type: 'contacts', sourceId: id, blob: id, blobSize: 777, originalSize: 777, transforms: ['e2e-opaque'] });
    expect(Buffer.from(restored[0]?.bytes as Uint8Array).equals(Buffer.from(bytes))).toBe(true);
    const report = await h.call('verifySnapshot', 'eve', { snapshotId: done?.snapshotId as string });
    expect(report.report?.ok).toBe(true);

    // An unchanged chunk is known at once under the opaque strategy key, never under a parsed one.
    const again = await h.call('createBackupJob', 'eve', { deviceId: 'd', types: ['contacts'], options: { endToEnd: true } });
    expect((await h.call('registerChunks', 'eve', { jobId: again.job.id, chunks: [{ id, type: 'contacts', size: 777, items: 40 }] })).known).toEqual([id]);
    const plainJob = await h.call('createBackupJob', 'eve', { deviceId: 'd', types: ['contacts'] });
    expect((await h.call('registerChunks', 'eve', { jobId: plainJob.job.id, chunks: [{ id, type: 'contacts', size: 777, items: 40 }] })).missing).toEqual([id]);
  });

  it('refuses endToEnd with incrementalOnly or serverChats', async () => {
    const h = createHarness();
    await expect(h.call('createBackupJob', 'eve', { deviceId: 'd', types: ['chats'], options: { endToEnd: true, incrementalOnly: true } })).rejects.toMatchObject({ code: 'invalid-argument' });
    await expect(h.call('createBackupJob', 'eve', { deviceId: 'd', types: ['chats'], options: { endToEnd: true, serverChats: true } })).rejects.toMatchObject({ code: 'invalid-argument' });
    // A schedule would only create such jobs later, where nobody sees the refusal: refused now.
    await expect(
      h.call('setSchedule', 'eve', { deviceId: 'd', kind: 'nightly', types: ['chats'], timeZone: 'UTC', options: { endToEnd: true, incrementalOnly: true } }),
    ).rejects.toMatchObject({ code: 'invalid-argument', message: expect.stringContaining('setSchedule') });
    expect(await h.store.listSchedules('eve')).toEqual([]);
  });
});
