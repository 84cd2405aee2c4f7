import type { TaskContext } from '../../ports';
import type { EngineDeps } from '../deps';
import { isRetryable, wrapError } from '../errors';
import { DEFAULT_RETRY_POLICY, hasRetriesLeft } from '../retry-policy';
import { scheduleDeathCheck } from './death-check';
import { recordFailure } from './record-failure';
import { attemptSlot, beginAttempt, finishLastAttempt, type RecordedStep, type StepIds } from './step-attempts';

/**
 * Runs a step's body with the engine's failure rules: a transient error is recorded on the job
 * and rethrown so the queue retries; a permanent error, or any error on the last attempt, fails
 * the job and returns normally (any non-2xx would make Cloud Tasks retry again).
 *
 * Deaths (docs/invariants.md, "Retries"): a retry first notes on the job a predecessor that died
 * without recording its outcome, and a last attempt records that it started and schedules its
 * death check before its work (step-attempts.ts, death-check.ts).
 *
 * @param deadlineSeconds The queue's dispatch deadline: the death check runs after it.
 */
export async function runStep(
  deps: EngineDeps,
  step: RecordedStep,
  context: TaskContext,
  ids: StepIds,
  body: () => Promise<void>,
  deadlineSeconds: number,
): Promise<void> {
  const policy = deps.retryPolicy ?? DEFAULT_RETRY_POLICY;
  const last = !hasRetriesLeft(context.retryCount, policy);
  const attempt = { taskId: context.taskId, retryCount: context.retryCount, last, ...(context.executionCount !== undefined ? { executionCount: context.executionCount } : {}) };
  try {
    await beginAttempt(deps, step, ids, attempt);
    if (last) {
      // Without its check a death of this attempt would wait for the stale-job sweeper; the work
      // itself is not held up for that.
      await scheduleDeathCheck(deps, step, ids, context, deadlineSeconds).catch((err: unknown) => {
        deps.logger.warn(`${step} could not schedule its death check: ${(err as Error).message}`, { job: ids.jobId, chunk: ids.chunkId });
      });
    }
    await body();
  } catch (err) {
    const final = !isRetryable(err) || last;
    const wrapped = wrapError(err, `${step} failed`, {
      job: ids.jobId,
      chunk: ids.chunkId,
      attempt: context.retryCount + 1,
    });
    deps.logger[final ? 'error' : 'warn'](wrapped.message, { step, final, code: wrapped.code });
    await recordFailure(deps, ids.jobId, step, wrapped, final, {
      slot: attemptSlot(step, ids),
      record: { task: context.taskId, retry: context.retryCount, outcome: 'failed', at: deps.clock.now() },
    });
    if (!final) throw wrapped;
    return;
  }
  if (last) {
    try {
      await finishLastAttempt(deps, step, ids, context.taskId, context.retryCount);
    } catch (err) {
      // The work is done; the death check also looks at the step's state before it fails a job.
      deps.logger.warn(`${step} could not record its last attempt's success: ${(err as Error).message}`, { job: ids.jobId, chunk: ids.chunkId });
    }
  }
}
