import type { TaskContext } from '../../ports';
import type { EngineDeps } from '../deps';
import { isRetryable, wrapError } from '../errors';
import { DEFAULT_RETRY_POLICY, hasRetriesLeft } from '../retry-policy';
import { recordFailure } from './record-failure';

/**
 * Runs a step's body with the engine's failure rules: a transient error is recorded on the job
 * and rethrown so the queue retries; a permanent error, or any error on the last attempt, fails
 * the job and returns normally (any non-2xx would make Cloud Tasks retry again).
 */
export async function runStep(
  deps: EngineDeps,
  step: string,
  context: TaskContext,
  ids: { jobId: string; chunkId?: string },
  body: () => Promise<void>,
): Promise<void> {
  try {
    await body();
  } catch (err) {
    const policy = deps.retryPolicy ?? DEFAULT_RETRY_POLICY;
    const final = !isRetryable(err) || !hasRetriesLeft(context.retryCount, policy);
    const wrapped = wrapError(err, `${step} failed`, {
      job: ids.jobId,
      chunk: ids.chunkId,
      attempt: context.retryCount + 1,
    });
    deps.logger[final ? 'error' : 'warn'](wrapped.message, { step, final, code: wrapped.code });
    await recordFailure(deps, ids.jobId, step, wrapped, final);
    if (!final) throw wrapped;
  }
}
