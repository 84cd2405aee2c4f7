/**
 * Issue 16 item 8: a 64 MiB single-chunk media file took the embedded server from 78 to 376 MB.
 * No chunk over 16 MiB is registered now (larger media come in parts), so no task holds one.
 */
import { MAX_CHUNK_BYTES } from '@lifeboat/protocol';
import { createHarness } from '../fakes/engine-harness';

it('registers a chunk of up to 16 MiB and refuses a larger one with invalid-argument', async () => {
  const h = createHarness();
  const { job } = await h.call('createBackupJob', 'ann', { deviceId: 'd', types: ['media'] });
  const chunk = (size: number, id: string) => ({ jobId: job.id, chunks: [{ id: id.repeat(64), type: 'media' as const, size, items: 1 }] });
  expect(MAX_CHUNK_BYTES).toBe(16 * 1024 * 1024);
  await expect(h.call('registerChunks', 'ann', chunk(MAX_CHUNK_BYTES + 1, 'a'))).rejects.toMatchObject({ code: 'invalid-argument' });
  await expect(h.call('registerChunks', 'ann', chunk(64 * 1024 * 1024, 'b'))).rejects.toMatchObject({ code: 'invalid-argument' });
  expect((await h.call('registerChunks', 'ann', chunk(MAX_CHUNK_BYTES, 'c'))).missing).toEqual(['c'.repeat(64)]);
});
