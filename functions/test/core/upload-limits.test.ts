/**
 * The per-user upload limits in the engine (issue 16, item 7), on the in-memory fakes: the same
 * handlers run on Firebase. Chunks per job are counted by the engine; open sessions by the
 * upload store (which the engine gives the limit to); cancel discards the job's sessions.
 */
import { DEFAULT_UPLOAD_LIMITS } from '../../src/core/upload-limits';
import { contactsChunk, createHarness, describeChunk } from '../fakes/engine-harness';

const UID = 'ann';
const chunks = (from: number, n: number) => Array.from({ length: n }, (_, i) => describeChunk('contacts', contactsChunk([`c${from + i}`]), 1));

async function job(h: ReturnType<typeof createHarness>): Promise<string> {
  const { job: created } = await h.call('createBackupJob', UID, { deviceId: 'p', types: ['contacts'] });
  await h.drain();
  return created.id;
}

describe('upload limits in the engine', () => {
  it('has documented defaults', () => {
    expect(DEFAULT_UPLOAD_LIMITS).toEqual({ chunksPerJob: 100_000, openUploadSessions: 64 });
  });

  it('refuses a registration that would pass chunksPerJob whole, naming the limit, and registers nothing of it', async () => {
    const h = createHarness({ uploadLimits: { chunksPerJob: 5 } });
    const jobId = await job(h);
    await h.call('registerChunks', UID, { jobId, chunks: chunks(0, 3) });
    // Registering known chunks again is free: they are not new.
    await h.call('registerChunks', UID, { jobId, chunks: chunks(0, 3) });
    await expect(h.call('registerChunks', UID, { jobId, chunks: chunks(2, 4) })).rejects.toMatchObject({
      code: 'resource-exhausted',
      retryable: false,
      details: { limit: 'chunksPerJob', max: 5, registered: 3, requested: 3 },
    });
    const { job: after } = await h.call('getBackupJob', UID, { jobId });
    expect(after.progress.totalChunks).toBe(3);
    expect((await h.store.listChunks(jobId)).items).toHaveLength(3);
    await expect(h.call('registerChunks', UID, { jobId, chunks: chunks(3, 2) })).resolves.toMatchObject({ missing: expect.any(Array) });
  });

  it('passes openUploadSessions to the upload store, which refuses a new session past it but returns an open one', async () => {
    const h = createHarness({ uploadLimits: { openUploadSessions: 2 } });
    const jobId = await job(h);
    const list = chunks(10, 3);
    await h.call('registerChunks', UID, { jobId, chunks: list });
    const first = await h.call('beginChunkUpload', UID, { jobId, chunkId: list[0]!.id });
    await h.call('beginChunkUpload', UID, { jobId, chunkId: list[1]!.id });
    await expect(h.call('beginChunkUpload', UID, { jobId, chunkId: list[2]!.id })).rejects.toMatchObject({
      code: 'resource-exhausted',
      details: { limit: 'openUploadSessions', max: 2 },
    });
    expect((await h.call('beginChunkUpload', UID, { jobId, chunkId: list[0]!.id })).uploadUrl).toBe(first.uploadUrl);
    // A completed upload is no longer open.
    await h.upload(first.uploadUrl as string, contactsChunk(['c10']));
    await expect(h.call('beginChunkUpload', UID, { jobId, chunkId: list[2]!.id })).resolves.toMatchObject({ uploadUrl: expect.any(String) });
  });

  it('cancel discards the job’s upload sessions', async () => {
    const h = createHarness();
    const jobId = await job(h);
    const list = chunks(20, 2);
    await h.call('registerChunks', UID, { jobId, chunks: list });
    for (const c of list) await h.call('beginChunkUpload', UID, { jobId, chunkId: c.id });
    expect(h.uploads.sessions.size).toBe(2);
    await h.call('cancelBackup', UID, { jobId });
    expect(h.uploads.sessions.size).toBe(0);
  });
});
