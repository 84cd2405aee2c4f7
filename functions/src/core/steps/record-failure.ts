import type { EngineDeps } from '../deps';
import { codeOf, messageOf } from '../errors';
import { isActive, transition } from '../state-machine';

/**
 * Writes a step's error on its job. A final failure (permanent, or the last retry) moves an
 * active job to `failed`: Cloud Tasks drops a task silently after its last attempt, so this is the
 * only thing that keeps a job from staying `running` forever.
 */
export async function recordFailure(
  deps: EngineDeps,
  jobId: string,
  step: string,
  err: unknown,
  final: boolean,
): Promise<void> {
  const now = deps.clock.now();
  const lastError = { code: codeOf(err), message: messageOf(err), step, at: now, retrying: !final };
  await deps.store.runTransaction(async (tx) => {
    const job = await tx.getJob(jobId);
    if (!job) return;
    if (final && isActive(job.status)) {
      tx.setJob(transition(job, 'failed', now, { lastError }));
    } else if (isActive(job.status)) {
      tx.setJob({ ...job, lastError, updatedAt: now });
    }
  });
}
