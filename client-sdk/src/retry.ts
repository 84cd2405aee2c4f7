/** Transport retry schedule: pure data, so tests check the delays without timers. */
export interface TransportRetryPolicy {
  /** Delay before retry n (1-based) is `delaysMs[n - 1]`; its length is the retry count. */
  delaysMs: readonly number[];
}

/** @default 1 s, 2 s, 4 s, 8 s, 16 s */
export const DEFAULT_TRANSPORT_RETRY: TransportRetryPolicy = { delaysMs: [1000, 2000, 4000, 8000, 16000] };

/** `Retry-After` in seconds (or an HTTP date), as milliseconds; null when absent or unreadable. */
export function retryAfterMs(header: string | undefined, now: number): number | null {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** Statuses worth retrying: timeouts, throttling and server errors (not 501 Not Implemented). */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

/** Sleeps `ms`, rejecting early if `signal` aborts. */
export function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
