import type { ErrorCode } from '@lifeboat/protocol';
import { errorCodeOfStatus } from './protocol';
/** Every failure the SDK surfaces is a BackupClientError with a `backup/…` code. */
export const BACKUP_ERROR_CODES = [
  'backup/invalid-argument',
  'backup/failed-precondition',
  'backup/out-of-range',
  'backup/unauthenticated',
  'backup/permission-denied',
  'backup/not-found',
  'backup/already-exists',
  'backup/aborted',
  'backup/quota-exceeded',
  'backup/cancelled',
  'backup/unavailable',
  'backup/deadline-exceeded',
  'backup/data-loss',
  'backup/unimplemented',
  'backup/internal',
  'backup/network',
  /**
   * The server's answer is not what the protocol says the call answers (a server and an SDK of
   * versions that disagree): not retried, since asking again gets the same answer.
   */
  'backup/invalid-response',
  'backup/upload-session-expired',
  /** End-to-end encryption: the passphrase does not match the account's key-check value. */
  'backup/wrong-passphrase',
  /** End-to-end encryption: the job or snapshot is end to end and the client has no passphrase. */
  'backup/passphrase-required',
] as const;
export type BackupErrorCode = (typeof BACKUP_ERROR_CODES)[number];

const TRANSIENT: ReadonlySet<BackupErrorCode> = new Set<BackupErrorCode>([
  'backup/unavailable',
  'backup/deadline-exceeded',
  'backup/network',
  'backup/quota-exceeded',
  'backup/internal',
]);

export class BackupClientError extends Error {
  readonly code: BackupErrorCode;
  /** HTTP status of the response that carried the error, when there was one. */
  readonly status: number | undefined;
  readonly details: Record<string, unknown> | undefined;
  /**
   * Whether the same request may succeed later. A `backup/quota-exceeded` whose details name a
   * per-user `limit` (`chunksPerJob`, `openUploadSessions`, a quota) is not: it stays exceeded
   * until the device finishes or cancels what holds it, or the day moves on. A full disk
   * (`details.reason: 'disk-full'`) is.
   */
  readonly retryable: boolean;
  /**
   * For `backup/quota-exceeded`: the per-user limit or quota the call would pass
   * (`chunksPerJob`, `openUploadSessions`, `storedBytes`, `backupsPerDay`, `concurrentJobs`,
   * `bytesPerJob`), from `details.limit`; `details.max` is its value and `details.current` the use.
   */
  readonly quota: string | undefined;

  constructor(code: BackupErrorCode, message: string, options: { status?: number; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BackupClientError';
    this.code = code;
    this.status = options.status;
    this.details = options.details;
    const limit = options.details?.['limit'];
    this.quota = code === 'backup/quota-exceeded' && typeof limit === 'string' ? limit : undefined;
    this.retryable = TRANSIENT.has(code) && this.quota === undefined;
  }
}

/**
 * The SDK's code for each code of the protocol (`@lifeboat/protocol`'s `ERROR_CODES`): a code the
 * server may send and the SDK has no name for fails to compile here.
 */
const SDK_CODE_OF: { readonly [C in ErrorCode]: BackupErrorCode } = {
  'invalid-argument': 'backup/invalid-argument',
  'failed-precondition': 'backup/failed-precondition',
  'out-of-range': 'backup/out-of-range',
  'not-found': 'backup/not-found',
  'already-exists': 'backup/already-exists',
  'permission-denied': 'backup/permission-denied',
  unauthenticated: 'backup/unauthenticated',
  'resource-exhausted': 'backup/quota-exceeded',
  aborted: 'backup/aborted',
  cancelled: 'backup/cancelled',
  'deadline-exceeded': 'backup/deadline-exceeded',
  unavailable: 'backup/unavailable',
  'data-loss': 'backup/data-loss',
  unimplemented: 'backup/unimplemented',
  internal: 'backup/internal',
  unknown: 'backup/internal',
};

/** Maps a callable status (`INVALID_ARGUMENT`) to an SDK code. */
export function codeFromStatus(status: string | undefined, httpStatus: number): BackupErrorCode {
  const known = errorCodeOfStatus(status);
  if (known) return SDK_CODE_OF[known];
  const name = (status ?? '').toLowerCase().replace(/_/g, '-');
  const code = `backup/${name}` as BackupErrorCode;
  if ((BACKUP_ERROR_CODES as readonly string[]).includes(code)) return code;
  if (httpStatus === 401) return 'backup/unauthenticated';
  if (httpStatus === 403) return 'backup/permission-denied';
  if (httpStatus === 404) return 'backup/not-found';
  if (httpStatus === 408 || httpStatus === 504) return 'backup/deadline-exceeded';
  if (httpStatus === 429) return 'backup/quota-exceeded';
  if (httpStatus >= 500) return 'backup/unavailable';
  return 'backup/invalid-argument';
}

export function abortedError(): BackupClientError {
  return new BackupClientError('backup/aborted', 'the backup was aborted');
}
