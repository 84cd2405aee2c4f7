/** The Firebase callable wire format for errors (docs/protocol.md). */
import type { ErrorCode } from '@lifeboat/engine/core';

export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = Object.freeze({
  'invalid-argument': 400,
  'failed-precondition': 400,
  'out-of-range': 400,
  unauthenticated: 401,
  'permission-denied': 403,
  'not-found': 404,
  'already-exists': 409,
  aborted: 409,
  'resource-exhausted': 429,
  cancelled: 499,
  internal: 500,
  unknown: 500,
  'data-loss': 500,
  unimplemented: 501,
  unavailable: 503,
  'deadline-exceeded': 504,
});

/** `invalid-argument` -> `INVALID_ARGUMENT`, as the callable protocol spells statuses. */
export function statusName(code: string): string {
  return code.replace(/-/g, '_').toUpperCase();
}

export interface CallableErrorBody {
  error: { status: string; message: string; details: Record<string, unknown> };
}

export function errorBody(code: string, message: string, details: Record<string, unknown> = {}): CallableErrorBody {
  return { error: { status: statusName(code), message, details: { ...details, code } } };
}

/**
 * `Retry-After` (whole seconds, at least 1) for an error whose details say how long to wait
 * (`details.retryAfterMs`: a GC lease, a full disk); empty otherwise. The SDK reads either.
 */
export function retryAfterHeader(details: Record<string, unknown> | undefined): Record<string, string> {
  const ms = details?.['retryAfterMs'];
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return {};
  return { 'retry-after': String(Math.max(1, Math.ceil(ms / 1000))) };
}
