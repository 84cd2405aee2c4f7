/**
 * Paging helpers shared by the store implementations, so every listing refuses the same limits and
 * cursors the same way.
 */
import { lifeboatError } from '../core/errors';

/**
 * The page size to use: `limit`, or `fallback` when it is absent.
 *
 * @throws LifeboatError `invalid-argument` when the limit is not an integer from 1 to `max`.
 */
export function checkPageLimit(limit: number | undefined, fallback: number, max: number): number {
  const value = limit ?? fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw lifeboatError('invalid-argument', `limit must be an integer from 1 to ${max}`, { details: { limit } });
  }
  return value;
}

/**
 * A keyset cursor for a listing sorted by a number then an id: the last item's sort key, opaque to
 * callers (base64url JSON).
 */
export function encodePageCursor(sortKey: readonly [number, string]): string {
  return Buffer.from(JSON.stringify(sortKey)).toString('base64url');
}

/**
 * The sort key inside a cursor made by {@link encodePageCursor}.
 *
 * @throws LifeboatError `invalid-argument` for anything else (a forged or foreign cursor).
 */
export function decodePageCursor(cursor: string): [number, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && Number.isSafeInteger(value[0]) && typeof value[1] === 'string') {
      return [value[0] as number, value[1]];
    }
  } catch {
    // Falls through to the refusal below.
  }
  throw lifeboatError('invalid-argument', 'unknown cursor');
}
