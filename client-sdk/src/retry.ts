/** Transport retry schedule: pure data, so tests check the delays without timers. */
export interface TransportRetryPolicy {
  /** Delay before retry n (1-based) is `delaysMs[n - 1]`; its length is the retry count. */
  delaysMs: readonly number[];
  /**
   * Longest the SDK waits in all, per call or per upload session, when the server says how long
   * to wait: `Retry-After`, or `details.retryAfterMs` (garbage collection of the user's blobs, a
   * full disk). Those waits do not use up `delaysMs`; each is at least {@link MIN_SERVER_WAIT_MS}
   * and at most what is left of this, and once it is spent the call fails with the server's
   * error. @default DEFAULT_MAX_SERVER_WAIT_MS (2 minutes)
   */
  maxWaitMs?: number;
}

/** @default 2 minutes: longer than a GC lease (1 minute), so a backup outlives a crashed GC run. */
export const DEFAULT_MAX_SERVER_WAIT_MS = 120_000;

/** A server-asked wait shorter than this counts as this long, so a `Retry-After: 0` cannot spin. */
export const MIN_SERVER_WAIT_MS = 1000;

/** @default 1 s, 2 s, 4 s, 8 s, 16 s, and up to 2 minutes of waits the server asks for */
export const DEFAULT_TRANSPORT_RETRY: TransportRetryPolicy = { delaysMs: [1000, 2000, 4000, 8000, 16000], maxWaitMs: DEFAULT_MAX_SERVER_WAIT_MS };

/** `Retry-After` in seconds (or an HTTP date), as milliseconds; null when absent or unreadable. */
export function retryAfterMs(header: string | undefined, now: number): number | null {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/**
 * How long the server asked the client to wait: the `Retry-After` header or the error's
 * `details.retryAfterMs` (Firebase callables cannot set headers), the longer of the two; null
 * when it said neither.
 */
export function serverWaitMs(header: string | undefined, details: Record<string, unknown> | undefined, now: number): number | null {
  const fromHeader = retryAfterMs(header, now);
  const raw = details?.['retryAfterMs'];
  const fromDetails = typeof raw === 'number' && Number.isFinite(raw) && raw >= 0 ? raw : null;
  if (fromHeader === null) return fromDetails;
  return fromDetails === null ? fromHeader : Math.max(fromHeader, fromDetails);
}

/** A wait the server asked for, as the SDK reports it (`BackupProgress.serverWait`). */
export interface ServerWait {
  /** The callable's name, or `upload`. */
  call: string;
  /** The job the call was about, when it named one. */
  jobId: string | null;
  /** `details.reason` of the answer (`gc-in-progress`, `disk-full`, ...), else its error code. */
  reason: string;
  /** `waiting` before the SDK sleeps, `retrying` once it asks again. */
  state: 'waiting' | 'retrying';
  waitMs: number;
  /** When the SDK asks again, epoch milliseconds. */
  retryAt: number;
}

/** The share of {@link TransportRetryPolicy.maxWaitMs} one call or upload has left to wait. */
export class ServerWaitBudget {
  private waited = 0;

  constructor(private readonly maxMs: number) {}

  /** Milliseconds waited so far. */
  get spent(): number {
    return this.waited;
  }

  /** The wait to take for a server that asked for `askedMs`, or null when the budget is spent. */
  take(askedMs: number): number | null {
    const left = this.maxMs - this.waited;
    if (left <= 0) return null;
    const wait = Math.min(Math.max(askedMs, MIN_SERVER_WAIT_MS), left);
    this.waited += wait;
    return wait;
  }
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
