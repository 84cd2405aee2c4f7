/**
 * Limits on one record (a contact, a chat message, device info) and on the records of one chunk,
 * checked where records cross a boundary: by the SDK before it packs a record, and by the server
 * before it reads one. A record over a limit is that record's skipped item with the reason, never
 * its chunk's or its job's failure.
 */
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

/**
 * A record's JSON line (no newline) when its depth and size are within the limits, else the reason
 * it is not. Depth and size are measured before `JSON.stringify` runs, iteratively, with a budget
 * of one value per allowed byte (every JSON value takes at least one), so neither deep nesting, a
 * cycle, nor a value shared many times can overflow the stack or run away. `toJSON` is honoured as
 * `JSON.stringify` does. The line's UTF-8 size is the caller's to check ({@link recordBytesReason}):
 * the SDK encodes the line anyway, the server only counts it.
 */
export function recordJson(record: unknown): { ok: true; json: string } | { ok: false; reason: string } {
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
  return { ok: true, json };
}

/** Why a record line of `bytes` UTF-8 bytes breaks the size limit, or null when it does not. */
export function recordBytesReason(bytes: number): string | null {
  return bytes > RECORD_LIMITS.maxRecordBytes ? `${bytes} bytes, over the ${RECORD_LIMITS.maxRecordBytes}-byte record limit` : null;
}
