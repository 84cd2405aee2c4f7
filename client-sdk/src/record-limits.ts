/**
 * Limits on one record and on the records of one chunk: the same numbers as the server's
 * `functions/src/core/record-limits.ts` (this package cannot import the server's; a test asserts
 * the two are equal). The SDK checks them before it packs a record, so it never sends what the
 * server would refuse and never overflows its own stack on a hostile record: a record over a
 * limit goes as a small stand-in line, `{"$skipped": reason, "id": …}`, which the server records
 * as that item's skip with the reason. The backup goes on.
 */
import { utf8Bytes } from './utf8';
export const RECORD_LIMITS = Object.freeze({
  /** Deepest nesting of arrays and objects in one record. @default 64 */
  maxDepth: 64,
  /** Bytes of one record's JSON line (without its newline). @default 1 MiB */
  maxRecordBytes: 1024 * 1024,
  /** Records in one chunk: the chunker cuts a chunk at this count. @default 100 000 */
  maxRecordsPerChunk: 100_000,
} as const);

/** The field of a stand-in line for a record over a limit. */
export const SKIPPED_MARKER = '$skipped';


/**
 * A record's JSON line (no newline) as UTF-8 bytes when it is within the limits, else the reason
 * it is not. Depth and size are measured before `JSON.stringify` runs, iteratively, with a budget
 * of one value per allowed byte (every JSON value takes at least one), so neither deep nesting, a
 * cycle, nor a value shared many times can overflow the stack or run away. `toJSON` is honoured
 * as `JSON.stringify` does.
 */
export function serializeRecord(record: unknown): { ok: true; json: string; bytes: Uint8Array } | { ok: false; reason: string } {
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
  let json: string | undefined;
  try {
    json = JSON.stringify(record);
  } catch (err) {
    return { ok: false, reason: `not serializable as JSON (${(err as Error).message})` };
  }
  if (json === undefined) return { ok: false, reason: 'not serializable as JSON' };
  const bytes = utf8Bytes(json);
  if (bytes.byteLength > maxRecordBytes) return { ok: false, reason: `${bytes.byteLength} bytes, over the ${maxRecordBytes}-byte record limit` };
  return { ok: true, json, bytes };
}

/**
 * The stand-in line for a record over a limit: the marker with the reason, and the record's
 * identifying string fields (cut to 256 characters, the server's limit for ids) so the skipped
 * item names it.
 */
export function skippedRecordJson(record: unknown, reason: string, keys: readonly string[]): string {
  const out: Record<string, unknown> = { [SKIPPED_MARKER]: reason };
  if (record && typeof record === 'object') {
    for (const key of keys) {
      const v = (record as Record<string, unknown>)[key];
      if (typeof v === 'string') out[key] = v.slice(0, 256);
    }
  }
  return JSON.stringify(out);
}
