import { contactsChunk, describeChunk, type Harness } from '../fakes/engine-harness';

/**
 * A running job of alice's with one registered, uploaded and committed contacts chunk, its
 * processing task left queued (drain the harness to finish the backup).
 */
export async function uploadedChunk(h: Harness) {
  const { job } = await h.call('createBackupJob', 'alice', { deviceId: 'phone-1', types: ['contacts'] });
  await h.drain();
  const bytes = contactsChunk(['c1', 'c2']);
  const chunk = describeChunk('contacts', bytes, 2);
  await h.call('registerChunks', 'alice', { jobId: job.id, chunks: [chunk] });
  const { uploadUrl } = await h.call('beginChunkUpload', 'alice', { jobId: job.id, chunkId: chunk.id });
  await h.upload(uploadUrl as string, bytes);
  await h.call('commitUpload', 'alice', { jobId: job.id, chunkCount: 1 });
  return { jobId: job.id, chunkId: chunk.id, bytes };
}

/**
 * Makes every contacts step hang for good, as an instance that ran out of memory or time: nothing
 * after the step runs, so only a death check can record it.
 */
export function contactsStepsDie(h: Harness): void {
  const contacts = h.deps.strategies.contacts;
  if (!contacts) throw new Error('no contacts strategy');
  h.deps.strategies = { ...h.deps.strategies, contacts: { ...contacts, processChunk: () => new Promise<never>(() => {}) } };
}
