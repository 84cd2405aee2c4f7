import { DEFAULT_RETENTION } from '../../src/core/snapshots/retention';
import { contactsChunk, createHarness, describeChunk, type Harness } from '../fakes/engine-harness';

async function backup(h: Harness, ids: string[]): Promise<void> {
  const bytes = contactsChunk(ids);
  const { job } = await h.call('createBackupJob', 'uma', { deviceId: 'p', types: ['contacts'] });
  const chunk = describeChunk('contacts', bytes, ids.length);
  const { missing } = await h.call('registerChunks', 'uma', { jobId: job.id, chunks: [chunk] });
  if (missing.length > 0) {
    const { uploadUrl } = await h.call('beginChunkUpload', 'uma', { jobId: job.id, chunkId: chunk.id });
    await h.upload(uploadUrl as string, bytes);
  }
  await h.call('commitUpload', 'uma', { jobId: job.id, chunkCount: 1 });
  await h.drain();
  h.clock.advance(60_000);
}

describe('per-user retention policy', () => {
  it('is the default until set; a set policy is applied by the next backup; null restores the default', async () => {
    const h = createHarness();
    expect(await h.call('getRetentionPolicy', 'uma', {})).toEqual({ policy: DEFAULT_RETENTION, isDefault: true });
    for (const id of ['a', 'b', 'c', 'd']) await backup(h, [id]);
    // The default keeps the 3 newest (all four are on one day, so daily adds none).
    expect((await h.store.listSnapshots({ uid: 'uma' })).items).toHaveLength(3);

    const set = await h.call('setRetentionPolicy', 'uma', { policy: { keepLast: 2, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 } });
    expect(set).toEqual({ policy: { keepLast: 2, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 }, isDefault: false });
    expect((await h.call('getRetentionPolicy', 'bob', {})).isDefault).toBe(true);
    await backup(h, ['e']);
    expect((await h.store.listSnapshots({ uid: 'uma' })).items).toHaveLength(2);

    expect(await h.call('setRetentionPolicy', 'uma', { policy: null })).toEqual({ policy: DEFAULT_RETENTION, isDefault: true });
    await expect(h.call('setRetentionPolicy', 'uma', { policy: { keepLast: 0 } })).rejects.toMatchObject({ code: 'invalid-argument' });
    await expect(h.call('setRetentionPolicy', null, { policy: null })).rejects.toMatchObject({ code: 'unauthenticated' });
  });
});
