import type { ChunkTotals } from '../../ports';
import type { EngineDeps } from '../deps';
import { unprocessedChunks } from '../job-progress';
import type { BackupJob } from '../model';
import { sourcesFinished, startServerSources } from '../sources/server-sources';
import { finalizeTaskId } from '../task-ids';

/** What finalize needs of the job itself: running, committed by the device, server-side sources read to their end. */
export function mayFinalize(job: BackupJob): boolean {
  return job.status === 'running' && job.uploadCommitted && sourcesFinished(job);
}

/**
 * True once {@link mayFinalize} holds and no registered chunk is left unprocessed (from the chunk
 * records' sums, so no step counts chunks on the job document). Pass `totals` a caller already has.
 */
export async function readyToFinalize(deps: Pick<EngineDeps, 'store'>, job: BackupJob, totals?: ChunkTotals): Promise<boolean> {
  if (!mayFinalize(job)) return false;
  return unprocessedChunks(totals ?? (await deps.store.chunkTotals(job.id))) === 0;
}

/**
 * Enqueues finalize when the job is ready. Called after every event that can make it ready (a
 * chunk processed, the upload committed, kickoff, resume); the dedup id makes the racing callers
 * enqueue it once.
 */
export async function maybeFinalize(deps: EngineDeps, jobId: string, totals?: ChunkTotals): Promise<void> {
  const job = await deps.store.getJob(jobId);
  if (job && !sourcesFinished(job)) await startServerSources(deps, job);
  if (!job || !(await readyToFinalize(deps, job, totals))) return;
  await deps.queue.enqueue('finalize', { jobId }, { id: finalizeTaskId(jobId, job.attempts) });
}
