import type { TaskContext } from '../../ports';
import type { EngineDeps } from '../deps';
import { processChunkTaskId } from '../task-ids';
import { transition } from '../state-machine';
import { chunksAwaitingProcessing } from './awaiting-processing';
import { maybeFinalize } from './maybe-finalize';

/**
 * Starts a queued job: `queued -> running`, phase `uploading` (or `processing` if the device has
 * already committed). Any other status means the work was done or is not wanted: no-op.
 * On a retried job (attempt > 1) it re-enqueues the chunks the failed run left uploaded but
 * unprocessed (`chunksAwaitingProcessing`), so the job resumes where it stopped.
 * Idempotent: a second delivery finds the job running and only re-checks the follow-up work.
 */
export async function kickoff(deps: EngineDeps, jobId: string, _context?: TaskContext): Promise<void> {
  const now = deps.clock.now();
  const started = await deps.store.runTransaction(async (tx) => {
    const job = await tx.getJob(jobId);
    if (!job || job.status !== 'queued') return job;
    const phase = job.uploadCommitted ? 'processing' : 'uploading';
    const next = { ...transition(job, 'running', now, { phase }), heartbeatAt: now };
    tx.setJob(next);
    return next;
  });
  if (!started || started.status !== 'running') return;
  if (started.attempts > 1) {
    for await (const chunk of chunksAwaitingProcessing(deps, started)) {
      await deps.queue.enqueue('processChunk', { jobId, chunkId: chunk.id }, { id: processChunkTaskId(jobId, chunk.id, started.attempts) });
    }
  }
  // An empty or fully deduplicated backup may already be complete when it starts.
  await maybeFinalize(deps, jobId);
}
