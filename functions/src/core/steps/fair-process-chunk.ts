import type { TaskContext } from '../../ports';
import type { EngineDeps } from '../deps';
import { deferralDelaySeconds, fairShareOf, takeSlot } from '../fair-share';
import { isActive } from '../state-machine';
import { processChunkTaskId } from '../task-ids';
import { processChunk } from './process-chunk';

/** A processChunk task's payload; `deferrals` counts the times it waited for a slot. */
export interface ProcessChunkTask {
  jobId: string;
  chunkId: string;
  deferrals?: number;
}

/**
 * processChunk within the user's fair share (fair-share.ts): with a slot it runs and frees the slot;
 * without one the task is enqueued again after a short wait (id `{task id}_w{n}`), and returns.
 * A job that is not active goes straight to processChunk, which drops or refuses its work.
 */
export async function processChunkFairly(deps: EngineDeps, task: ProcessChunkTask, context: Pick<TaskContext, 'taskId' | 'retryCount'>): Promise<void> {
  const share = fairShareOf(deps);
  if (!share) return processChunk(deps, task.jobId, task.chunkId);
  const job = await deps.store.getJob(task.jobId);
  if (!job || !isActive(job.status)) return processChunk(deps, task.jobId, task.chunkId);
  const slot = await takeSlot(deps, job.uid, `${context.taskId}#${context.retryCount}`, share);
  if (!slot) {
    const deferrals = (task.deferrals ?? 0) + 1;
    await deps.queue.enqueue(
      'processChunk',
      { jobId: task.jobId, chunkId: task.chunkId, deferrals },
      { id: `${processChunkTaskId(task.jobId, task.chunkId, job.attempts)}_w${deferrals}`, delaySeconds: deferralDelaySeconds(share, deferrals) },
    );
    return;
  }
  try {
    await processChunk(deps, task.jobId, task.chunkId);
  } finally {
    // A slot that cannot be freed expires by itself; the chunk's outcome is what matters here.
    await slot.release().catch((err: unknown) => deps.logger.warn(`processing slot not freed [key=${slot.key}]: ${(err as Error).message}`));
  }
}
