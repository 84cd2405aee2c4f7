/**
 * The retry policy as data. A failed step is retried after 30 s, 1 m, 2 m, 5 m and 10 m, then the
 * job fails cleanly. Pure functions only: no timers, so tests check the ladder exactly.
 */
export interface RetryPolicy {
  /** Delay before retry n (1-based) is `delaysSeconds[n - 1]`; its length is the retry count. */
  readonly delaysSeconds: readonly number[];
  /**
   * Each delay is scaled by a factor drawn uniformly from [1 - jitter, 1 + jitter], so that many
   * tasks failing together do not retry together.
   */
  readonly jitter: number;
}

/** @default ladder 30 s, 60 s, 120 s, 300 s, 600 s; 5 retries (6 attempts); ±10 % jitter. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  delaysSeconds: Object.freeze([30, 60, 120, 300, 600]),
  jitter: 0.1,
});

/** Number of retries after the first attempt. */
export function maxRetries(policy: RetryPolicy = DEFAULT_RETRY_POLICY): number {
  return policy.delaysSeconds.length;
}

/** Total attempts, first one included. */
export function maxAttempts(policy: RetryPolicy = DEFAULT_RETRY_POLICY): number {
  return policy.delaysSeconds.length + 1;
}

/**
 * Milliseconds to wait before retry `retry` (1-based). `random` returns a value in [0, 1); 0.5
 * gives the nominal delay. Throws RangeError past the last retry: the caller must have asked
 * {@link hasRetriesLeft} first.
 */
export function delayFor(
  retry: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  random: () => number = Math.random,
): number {
  const base = policy.delaysSeconds[retry - 1];
  if (!Number.isInteger(retry) || base === undefined) {
    throw new RangeError(`no retry ${retry} in a ladder of ${policy.delaysSeconds.length}`);
  }
  const factor = 1 + policy.jitter * (2 * random() - 1);
  return Math.round(base * 1000 * factor);
}

/**
 * Whether a task that has already been retried `retryCount` times (0 on its first attempt, as
 * Cloud Tasks' `X-CloudTasks-TaskRetryCount`) may be retried once more after this attempt fails.
 */
export function hasRetriesLeft(retryCount: number, policy: RetryPolicy = DEFAULT_RETRY_POLICY): boolean {
  return retryCount < policy.delaysSeconds.length;
}
