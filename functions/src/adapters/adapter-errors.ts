/**
 * Errors from the Google SDKs (Firestore's gRPC statuses, Cloud Storage's HTTP statuses,
 * firebase-admin's `service/code` strings) turned into LifeboatErrors, so the engine sees one
 * vocabulary and one retry class whatever the backend.
 *
 * Retry class: UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED and RESOURCE_EXHAUSTED are transient; so
 * are INTERNAL and UNKNOWN, which Google's retry guidance for Firestore and Cloud Storage lists as
 * retryable (the Firestore SDK retries them in transactions itself) and which core's error model
 * treats as transient too. Every other status is permanent: retrying the same request cannot
 * change a NOT_FOUND, a PERMISSION_DENIED or an INVALID_ARGUMENT.
 */
import { isLifeboatError, lifeboatError, type ErrorCode } from '../core/errors';

/** gRPC status numbers (Firestore) and the error code each becomes. */
export const GRPC_STATUS_CODES: Readonly<Record<number, ErrorCode>> = {
  1: 'cancelled',
  2: 'unknown',
  3: 'invalid-argument',
  4: 'deadline-exceeded',
  5: 'not-found',
  6: 'already-exists',
  7: 'permission-denied',
  8: 'resource-exhausted',
  9: 'failed-precondition',
  10: 'aborted',
  11: 'out-of-range',
  12: 'unimplemented',
  13: 'internal',
  14: 'unavailable',
  15: 'data-loss',
  16: 'unauthenticated',
};

/** gRPC ALREADY_EXISTS: what `DocumentReference.create()` rejects with when the document exists. */
export const GRPC_ALREADY_EXISTS = 6;

const TRANSIENT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'unavailable',
  'deadline-exceeded',
  'aborted',
  'resource-exhausted',
  'internal',
  'unknown',
]);

/** Node socket errors: the network, not the request, failed. */
const NETWORK_ERRNOS: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ENETUNREACH',
  'EHOSTUNREACH',
]);

/** The error code for an HTTP status (Cloud Storage JSON API, Cloud Tasks and FCM REST calls). */
export function codeFromHttpStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'invalid-argument';
    case 401:
      return 'unauthenticated';
    case 403:
      return 'permission-denied';
    case 404:
    case 410:
      return 'not-found';
    case 408:
      return 'deadline-exceeded';
    case 409:
      return 'aborted';
    case 412:
      return 'failed-precondition';
    case 416:
      return 'out-of-range';
    case 429:
      return 'resource-exhausted';
    case 500:
      return 'internal';
    case 501:
      return 'unimplemented';
    case 502:
    case 503:
      return 'unavailable';
    case 504:
      return 'deadline-exceeded';
    default:
      if (status >= 500) return 'unavailable';
      if (status >= 400) return 'failed-precondition';
      return 'unknown';
  }
}

/**
 * The error code for a firebase-admin error code (`functions/not-found`,
 * `messaging/registration-token-not-registered`, ...); undefined for one it does not know, so the
 * caller can fall back on the HTTP status.
 */
export function codeFromFirebaseCode(code: string): ErrorCode | undefined {
  const name = code.includes('/') ? code.slice(code.indexOf('/') + 1) : code;
  switch (name) {
    case 'invalid-argument':
    case 'invalid-registration-token':
    case 'invalid-payload':
    case 'invalid-recipient':
    case 'payload-size-limit-exceeded':
    case 'invalid-data-payload-key':
      return 'invalid-argument';
    case 'registration-token-not-registered':
    case 'not-found':
      return 'not-found';
    case 'already-exists':
    case 'task-already-exists':
      return 'already-exists';
    case 'permission-denied':
    case 'mismatched-credential':
    case 'sender-id-mismatch':
    case 'third-party-auth-error':
      return 'permission-denied';
    case 'unauthenticated':
    case 'invalid-credential':
      return 'unauthenticated';
    case 'failed-precondition':
      return 'failed-precondition';
    case 'aborted':
      return 'aborted';
    case 'message-rate-exceeded':
    case 'device-message-rate-exceeded':
    case 'topics-message-rate-exceeded':
    case 'quota-exceeded':
    case 'resource-exhausted':
      return 'resource-exhausted';
    case 'server-unavailable':
    case 'unavailable':
    case 'network-error':
      return 'unavailable';
    case 'network-timeout':
    case 'deadline-exceeded':
      return 'deadline-exceeded';
    case 'internal-error':
    case 'internal':
      return 'internal';
    default:
      return undefined;
  }
}

/** True for the codes a retry can cure; see the module comment. */
export function isTransientCode(code: ErrorCode): boolean {
  return TRANSIENT.has(code);
}

function property(err: unknown, name: string): unknown {
  return typeof err === 'object' && err !== null ? (err as Record<string, unknown>)[name] : undefined;
}

/** The HTTP status an SDK error carries (GCS `ApiError.code`, firebase-admin `httpResponse.status`, gaxios `response.status`). */
export function httpStatusOf(err: unknown): number | undefined {
  const code = property(err, 'code');
  if (typeof code === 'number' && code >= 100 && code < 600) return code;
  for (const holder of ['httpResponse', 'response']) {
    const status = property(property(err, holder), 'status');
    if (typeof status === 'number') return status;
  }
  return undefined;
}

/** What kind of SDK error `err` is, and the code it maps to; undefined for an error of our own or of the caller. */
export function classifySdkError(err: unknown): { code: ErrorCode; source: string } | undefined {
  const code = property(err, 'code');
  if (typeof code === 'number') {
    const grpc = GRPC_STATUS_CODES[code];
    if (grpc) return { code: grpc, source: `grpc ${code}` };
  }
  if (typeof code === 'string' && code.includes('/')) {
    const mapped = codeFromFirebaseCode(code);
    const status = httpStatusOf(err);
    if (mapped && mapped !== 'internal') return { code: mapped, source: code };
    if (status !== undefined) return { code: codeFromHttpStatus(status), source: `${code} (HTTP ${status})` };
    return { code: mapped ?? 'unknown', source: code };
  }
  if (typeof code === 'string' && NETWORK_ERRNOS.has(code)) return { code: 'unavailable', source: code };
  const status = httpStatusOf(err);
  if (status !== undefined) return { code: codeFromHttpStatus(status), source: `HTTP ${status}` };
  return undefined;
}

/**
 * `err` as a LifeboatError when it comes from a Google SDK, with the code and retry class of the
 * module comment and `what` in front of the message. A LifeboatError, or an error the SDK did not
 * make (the caller's own, thrown through a transaction or a body stream), comes back unchanged, so
 * callers see their own errors as they threw them.
 */
export function toLifeboatError(err: unknown, what: string): unknown {
  if (isLifeboatError(err)) return err;
  const sdk = classifySdkError(err);
  if (!sdk) return err;
  const message = err instanceof Error ? err.message : String(err);
  return lifeboatError(sdk.code, `${what}: ${message}`, {
    retryable: isTransientCode(sdk.code),
    details: { source: sdk.source },
    cause: err,
  });
}
