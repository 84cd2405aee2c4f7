/**
 * The error vocabulary of the callable protocol: the codes a server's error carries (Firebase's
 * callable codes, sent as `{error: {status: 'INVALID_ARGUMENT', message, details}}`), and which of
 * them describe a passing condition that the same call may get past later.
 */
export const ERROR_CODES = [
  'invalid-argument',
  'failed-precondition',
  'out-of-range',
  'not-found',
  'already-exists',
  'permission-denied',
  'unauthenticated',
  'resource-exhausted',
  'aborted',
  'cancelled',
  'deadline-exceeded',
  'unavailable',
  'data-loss',
  'unimplemented',
  'internal',
  'unknown',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Codes that describe a passing condition: retrying the same work later may succeed. */
export const TRANSIENT_ERROR_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['aborted', 'deadline-exceeded', 'unavailable', 'resource-exhausted', 'internal', 'unknown']);

/** The code of a callable error's `status` (`INVALID_ARGUMENT` is `invalid-argument`), or null for one outside the protocol. */
export function errorCodeOfStatus(status: string | undefined): ErrorCode | null {
  const name = (status ?? '').toLowerCase().replace(/_/g, '-');
  return (ERROR_CODES as readonly string[]).includes(name) ? (name as ErrorCode) : null;
}

/** The `status` a callable error carries for a code (`invalid-argument` is `INVALID_ARGUMENT`). */
export function statusOfErrorCode(code: string): string {
  return code.replace(/-/g, '_').toUpperCase();
}

/** The HTTP status a callable error answers with, per code (docs/protocol.md, the code table). */
export const HTTP_STATUS_OF_CODE: Readonly<Record<ErrorCode, number>> = Object.freeze({
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
