/**
 * The key and range rules of the `BlobStore` contract, written once so every store (local
 * folder, Cloud Storage, the in-memory fake) accepts and refuses exactly the same calls.
 */
import { lifeboatError } from '../core/errors';
import type { GetOptions } from './blob-store';

const SEGMENT = /^[A-Za-z0-9._-]{1,255}$/;
const PARTIAL_SEGMENT = /^[A-Za-z0-9._-]*$/;
/** Longest key a store accepts, in characters (Cloud Storage allows 1024 bytes; keys are ASCII). */
export const MAX_BLOB_KEY_LENGTH = 1024;

/** Whether `segment` may stand between two `/` of a key: 1 to 255 of `[A-Za-z0-9._-]`, not `.` or `..`. */
export function isBlobKeySegment(segment: string): boolean {
  return SEGMENT.test(segment) && segment !== '.' && segment !== '..';
}

/**
 * Refuses a key outside the BlobStore rules: `/`-separated segments of `[A-Za-z0-9._-]` (see
 * {@link isBlobKeySegment}), so no leading or trailing slash and no empty, `.` or `..` segment, and
 * at most {@link MAX_BLOB_KEY_LENGTH} characters. Returns the key's segments.
 *
 * @throws LifeboatError `invalid-argument` for a key that breaks a rule.
 */
export function assertBlobKey(key: string): string[] {
  const segments = typeof key === 'string' && key.length <= MAX_BLOB_KEY_LENGTH ? key.split('/') : [''];
  if (!segments.every(isBlobKeySegment)) throw lifeboatError('invalid-argument', `invalid blob key ${JSON.stringify(key)}`);
  return segments;
}

/**
 * Refuses a `list` prefix that no key could start with by the key rules: whole segments, then a
 * last part that may be empty or the start of a segment (`list` matches plain string prefixes).
 * Returns the whole segments and the last part.
 *
 * @throws LifeboatError `invalid-argument` for such a prefix.
 */
export function assertBlobPrefix(prefix: string): { folders: string[]; partial: string } {
  const folders = prefix.split('/');
  const partial = folders.pop() ?? '';
  if (!folders.every(isBlobKeySegment) || !PARTIAL_SEGMENT.test(partial)) {
    throw lifeboatError('invalid-argument', `invalid blob prefix ${JSON.stringify(prefix)}`);
  }
  return { folders, partial };
}

/**
 * The byte range `[start, end)` a get of an object of `size` bytes returns. An end past the object
 * is clamped to its size, as Cloud Storage does; a start equal to the size gives an empty read.
 *
 * @throws LifeboatError `invalid-argument` for a start or end that is not a non-negative safe
 *   integer, or an end before the start; `out-of-range` for a start past the object.
 */
export function resolveRange(options: Pick<GetOptions, 'start' | 'end'>, size: number): { start: number; end: number } {
  const start = options.start ?? 0;
  const end = options.end;
  if (!Number.isSafeInteger(start) || start < 0 || (end !== undefined && (!Number.isSafeInteger(end) || end < start))) {
    throw lifeboatError('invalid-argument', `invalid byte range ${start}..${end ?? ''}`);
  }
  if (start > size) throw lifeboatError('out-of-range', `range starts at ${start}, past the object's ${size} bytes`);
  return { start, end: Math.min(end ?? size, size) };
}
