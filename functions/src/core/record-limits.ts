/**
 * Limits on one record (a contact, a chat message, device info) and on the records of one chunk,
 * checked where records cross a boundary: by the SDK before it packs a record, and by the server
 * before it reads one (issue 16). A record over a limit is that record's skipped item with the
 * reason, never its chunk's or its job's failure.
 *
 * The SDK cannot import this package, so it keeps the same numbers in
 * `client-sdk/src/record-limits.ts`; `client-sdk/test/record-limits.test.ts` asserts the two
 * are equal.
 */
import { lifeboatError } from './errors';

export const RECORD_LIMITS = Object.freeze({
  /**
   * Deepest nesting of arrays and objects in one record. Address books and chat apps nest a few
   * levels; the bound keeps every serializer far from the stack's limit (JSON.stringify
   * overflows at a few thousand levels). @default 64
   */
  maxDepth: 64,
  /**
   * Bytes of one record's JSON line (without its newline). A chat message's text is at most
   * 100 000 characters. @default 1 MiB
   */
  maxRecordBytes: 1024 * 1024,
  /**
   * Records (NDJSON lines, or vCards) read from one chunk; the ones after are one skipped item.
   * The SDK cuts its chunks at this count. @default 100 000
   */
  maxRecordsPerChunk: 100_000,
} as const);

/**
 * A line `{"$skipped": reason, "id": …}` stands for a record the device (or a server source) did
 * not send because it breaks a limit; the strategy records it as skipped with that reason.
 */
export const SKIPPED_MARKER = '$skipped';

/** Longest skip reason or warning kept on a manifest item; longer ones are cut. */
export const MAX_REASON_CHARS = 1000;

/** `text`, cut to {@link MAX_REASON_CHARS} characters. */
export function boundedReason(text: string): string {
  return text.length <= MAX_REASON_CHARS ? text : `${text.slice(0, MAX_REASON_CHARS - 1)}…`;
}

/**
 * The nesting depth of a parsed JSON value (a scalar is 0, `[]` is 1), or `limit + 1` as soon as
 * it passes `limit`. Iterative, so any depth is measured without recursion; linear in the value's
 * size. For values from `JSON.parse` (trees): a shared or cyclic value would be walked once per
 * path, which only {@link serializeRecord}'s budget bounds.
 */
export function jsonDepth(value: unknown, limit: number = RECORD_LIMITS.maxDepth): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    const inner = depth + 1;
    if (inner > limit) return limit + 1;
    if (inner > deepest) deepest = inner;
    if (Array.isArray(v)) for (const item of v) stack.push([item, inner]);
    else for (const key of Object.keys(v)) stack.push([(v as Record<string, unknown>)[key], inner]);
  }
  return deepest;
}

const encoder = new TextEncoder();

/** Why a parsed record (its line `lineBytes` long) breaks a limit, or null when it does not. */
export function recordLimitReason(lineBytes: number, value?: unknown): string | null {
  if (lineBytes > RECORD_LIMITS.maxRecordBytes) return `${lineBytes} bytes, over the ${RECORD_LIMITS.maxRecordBytes}-byte record limit`;
  if (value !== undefined && jsonDepth(value) > RECORD_LIMITS.maxDepth) return `nested deeper than the ${RECORD_LIMITS.maxDepth}-level record limit`;
  return null;
}

/**
 * The reason a device gave for a record it did not send (`{"$skipped": reason}`), or null for an
 * ordinary record.
 */
export function skippedByDevice(value: unknown): string | null {
  if (!value || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, SKIPPED_MARKER)) return null;
  const reason = (value as Record<string, unknown>)[SKIPPED_MARKER];
  return boundedReason(typeof reason === 'string' && reason !== '' ? reason : 'no reason given');
}

/**
 * A record's JSON line (no newline) when it is within the limits, else the reason it is not.
 * Depth and size are measured before `JSON.stringify` runs, iteratively, with a budget of one
 * value per allowed byte (every JSON value takes at least a byte), so neither deep nesting nor a
 * value shared many times can overflow the stack or run away. For records the server produces
 * itself (a server-side chat source); the SDK has the same function.
 */
export function serializeRecord(record: unknown): { ok: true; json: string } | { ok: false; reason: string } {
  const { maxDepth, maxRecordBytes } = RECORD_LIMITS;
  let budget = maxRecordBytes;
  const stack: Array<[unknown, number]> = [[record, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (--budget < 0) return { ok: false, reason: `over the ${maxRecordBytes}-byte record limit` };
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > maxDepth) return { ok: false, reason: `nested deeper than the ${maxDepth}-level record limit` };
    const value = typeof (v as { toJSON?: unknown }).toJSON === 'function' ? (v as { toJSON: () => unknown }).toJSON() : v;
    if (value !== v) {
      stack.push([value, depth]);
      continue;
    }
    if (Array.isArray(value)) for (const item of value) stack.push([item, depth + 1]);
    else for (const key of Object.keys(value)) stack.push([(value as Record<string, unknown>)[key], depth + 1]);
  }
  let json: string;
  try {
    json = JSON.stringify(record);
  } catch (err) {
    return { ok: false, reason: `not serializable as JSON (${(err as Error).message})` };
  }
  if (json === undefined) return { ok: false, reason: 'not serializable as JSON' };
  const bytes = encoder.encode(json).byteLength;
  if (bytes > maxRecordBytes) return { ok: false, reason: `${bytes} bytes, over the ${maxRecordBytes}-byte record limit` };
  return { ok: true, json };
}

/**
 * The line that stands for a record over a limit: the marker with the reason, and the record's
 * identifying fields (cut to the length the schemas allow) so the skipped item names it.
 */
export function skippedRecordJson(record: unknown, reason: string, keys: readonly string[]): string {
  const out: Record<string, unknown> = { [SKIPPED_MARKER]: boundedReason(reason) };
  if (record && typeof record === 'object') {
    for (const key of keys) {
      const v = (record as Record<string, unknown>)[key];
      if (typeof v === 'string') out[key] = v.slice(0, 256);
    }
  }
  return JSON.stringify(out);
}

/** Refuses a value nested past the limit: for serializers that recurse (canonicalJson). */
export function assertDepthWithinLimit(value: unknown): void {
  if (jsonDepth(value) > RECORD_LIMITS.maxDepth) {
    throw lifeboatError('invalid-argument', `record nested deeper than the ${RECORD_LIMITS.maxDepth}-level limit`, { retryable: false });
  }
}
