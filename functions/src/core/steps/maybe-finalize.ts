import type { EngineDeps } from '../deps';
import type { BackupJob } from '../model';
import { sourcesFinished, startServerSources } from '../sources/server-sources';
import { finalizeTaskId } from '../task-ids';

/** True once the device committed, server-side sources were read to their end, and every registered chunk is processed. */
export function readyToFinalize(job: BackupJob): boolean {
  return (
    job.status === 'running' &&
    job.uploadCommitted &&
    sourcesFinished(job) &&
    job.progress.processedChunks >= job.progress.totalChunks
  );
}

/**
 * Enqueues finalize when the job is ready. Called after every event that can make it ready (a
 * chunk processed, the upload committed, kickoff, resume); the dedup id makes the racing callers
 * enqueue it once.
 */
export async function maybeFinalize(deps: EngineDeps, jobId: string): Promise<void> {
  const job = await deps.store.getJob(jobId);
  if (job && !sourcesFinished(job)) await startServerSources(deps, job);
  if (!job || !readyToFinalize(job)) return;
  await deps.queue.enqueue('finalize', { jobId }, { id: finalizeTaskId(jobId, job.attempts) });
}
