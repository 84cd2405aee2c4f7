/**
 * Errors that cross a boundary carry a code (the Firebase callable vocabulary) and a retry class.
 * A task step throws a retryable error so its queue retries it; a permanent one is recorded on the
 * job and the step returns.
 */
import { ERROR_CODES, TRANSIENT_ERROR_CODES, type ErrorCode } from '@lifeboat/protocol';
export { ERROR_CODES, type ErrorCode };

export interface LifeboatErrorOptions {
  /** Structured, JSON-safe details shown to the caller (e.g. which field was wrong). */
  details?: Record<string, unknown>;
  /** Overrides the retry class implied by the code. */
  retryable?: boolean;
  cause?: unknown;
}

export class LifeboatError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: LifeboatErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LifeboatError';
    this.code = code;
    this.retryable = options.retryable ?? TRANSIENT_ERROR_CODES.has(code);
    this.details = options.details;
  }
}

export function lifeboatError(
  code: ErrorCode,
  message: string,
  options?: LifeboatErrorOptions,
): LifeboatError {
  return new LifeboatError(code, message, options);
}

export function isLifeboatError(err: unknown): err is LifeboatError {
  return err instanceof LifeboatError;
}

/** True when `err` is a LifeboatError with this code. */
export function hasCode(err: unknown, code: ErrorCode): boolean {
  return isLifeboatError(err) && err.code === code;
}

/**
 * Whether a failed step should be retried. Errors we did not classify (a dropped socket, a disk
 * hiccup) are retryable: the retry ladder bounds the cost, and a job that exhausts it still ends
 * `failed` with the error recorded.
 */
export function isRetryable(err: unknown): boolean {
  if (isLifeboatError(err)) return err.retryable;
  if (err instanceof SyntaxError || err instanceof TypeError || err instanceof RangeError) {
    return false;
  }
  return true;
}

/** The code of any error: LifeboatError keeps its own, anything else is `internal`. */
export function codeOf(err: unknown): ErrorCode {
  return isLifeboatError(err) ? err.code : 'internal';
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Adds context to an error, keeping its code and retry class:
 * `wrapError(e, 'upload failed', { job, chunk })` -> `upload failed [job=…, chunk=…]: cause`.
 */
export function wrapError(
  err: unknown,
  what: string,
  context: Record<string, string | number | undefined> = {},
): LifeboatError {
  const ctx = Object.entries(context)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(', ');
  const message = `${what}${ctx ? ` [${ctx}]` : ''}: ${messageOf(err)}`;
  const details = isLifeboatError(err) ? err.details : undefined;
  return new LifeboatError(codeOf(err), message, {
    retryable: isRetryable(err),
    cause: err,
    ...(details ? { details } : {}),
  });
}
