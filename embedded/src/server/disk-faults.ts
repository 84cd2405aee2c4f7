/**
 * Disk faults as the device sees them (issue 17: a full or unwritable data folder must never end
 * the server, and the device must learn the real cause). A full disk is `resource-exhausted`, a
 * folder the server cannot write is `unavailable`; both are retryable and carry `retryAfterMs`,
 * which the HTTP layer also sends as `Retry-After`.
 */
import { lifeboatError, type LifeboatError } from '@lifeboat/engine/core';

/** How long a device is asked to wait after a full disk. @default 60 s */
export const DISK_FULL_RETRY_AFTER_MS = 60_000;
/** How long a device is asked to wait after the data folder could not be written. @default 30 s */
export const DISK_UNWRITABLE_RETRY_AFTER_MS = 30_000;

/** errno codes (file system) and SQLite result codes of a full disk or quota. */
const FULL: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);
/** Codes of a folder or database the server cannot write (permissions, read-only mount, I/O). */
const UNWRITABLE: ReadonlySet<string> = new Set(['EACCES', 'EPERM', 'EROFS', 'EIO', 'EMFILE', 'ENFILE']);
const UNWRITABLE_SQLITE = /^SQLITE_(READONLY|CANTOPEN|IOERR)/;

interface SystemError {
  code?: unknown;
  syscall?: unknown;
  message?: unknown;
  cause?: unknown;
}

/** The first error in `err`'s cause chain with a disk-fault code. */
function faultIn(err: unknown): { code: string; error: SystemError } | null {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const error = current as SystemError;
    const code = typeof error.code === 'string' ? error.code : '';
    if (FULL.has(code) || UNWRITABLE.has(code) || UNWRITABLE_SQLITE.test(code)) return { code, error };
    current = error.cause;
  }
  return null;
}

/** `ENOSPC: no space left on device (write)`: the cause without the server's file paths. */
function describe(code: string, error: SystemError): string {
  const message = typeof error.message === 'string' ? error.message : code;
  const text = message.startsWith(`${code}: `) ? message.slice(code.length + 2).split(', ')[0] : message;
  const syscall = typeof error.syscall === 'string' ? ` (${error.syscall})` : '';
  return `${code}: ${text}${syscall}`;
}

/**
 * The disk fault behind `err` (its own code or one in its cause chain) as the error to answer
 * with, naming `what` failed; null when `err` is not a disk fault.
 */
export function diskFault(err: unknown, what: string): LifeboatError | null {
  const fault = faultIn(err);
  if (!fault) return null;
  const cause = describe(fault.code, fault.error);
  if (FULL.has(fault.code)) {
    return lifeboatError('resource-exhausted', `${what}: the server's disk is full (${cause}); bytes already acknowledged are kept, try again later`, {
      retryable: true,
      cause: err,
      details: { reason: 'disk-full', errno: fault.code, retryAfterMs: DISK_FULL_RETRY_AFTER_MS },
    });
  }
  return lifeboatError('unavailable', `${what}: the server cannot write its data folder (${cause}); bytes already acknowledged are kept, try again later`, {
    retryable: true,
    cause: err,
    details: { reason: 'disk-unwritable', errno: fault.code, retryAfterMs: DISK_UNWRITABLE_RETRY_AFTER_MS },
  });
}
