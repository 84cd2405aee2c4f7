import type { EngineDeps } from '../deps';
import { codeOf, messageOf } from '../errors';
import type { BackupJob, StepAttempt } from '../model';
import { isActive, transition } from '../state-machine';
import { readSlot, writeAttempt, type AttemptSlot } from './step-attempts';

/**
 * Writes a step's error on its job. A final failure (permanent, or the last retry) moves an
 * active job to `failed`: Cloud Tasks drops a task silently after its last attempt, so this is the
 * only thing that keeps a job from staying `running` forever.
 *
 * @param attempt The attempt's record (`failed`), written in the same transaction, so the next
 *   attempt knows this one's failure was recorded (step-attempts.ts). @default none
 */
export async function recordFailure(
  deps: EngineDeps,
  jobId: string,
  step: string,
  err: unknown,
  final: boolean,
  attempt?: { slot: AttemptSlot; record: StepAttempt },
): Promise<void> {
  const now = deps.clock.now();
  const lastError = { code: codeOf(err), message: messageOf(err), step, at: now, retrying: !final };
  await deps.store.runTransaction(async (tx) => {
    const read = attempt ? await readSlot(tx, attempt.slot) : { job: await tx.getJob(jobId), chunk: null, attempt: undefined };
    const { job } = read;
    if (!job || !isActive(job.status)) return;
    const next: BackupJob = final ? transition(job, 'failed', now, { lastError }) : { ...job, lastError, updatedAt: now };
    if (attempt) writeAttempt(tx, attempt.slot, read, attempt.record, next);
    else tx.setJob(next);
  });
}
