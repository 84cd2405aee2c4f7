/**
 * Limits on one record and on the records of one chunk: the protocol's (`@lifeboat/protocol`),
 * the numbers the server reads records by. The SDK checks them before it packs a record, so it never sends what the
 * server would refuse and never overflows its own stack on a hostile record: a record over a
 * limit goes as a small stand-in line, `{"$skipped": reason, "id": …}`, which the server records
 * as that item's skip with the reason. The backup goes on.
 */
import { RECORD_LIMITS, recordBytesReason, recordJson, SKIPPED_MARKER } from './protocol';
import { utf8Bytes } from './utf8';

export { RECORD_LIMITS, SKIPPED_MARKER };

/**
 * A record's JSON line (no newline) as UTF-8 bytes when it is within the limits, else the reason
 * it is not: the protocol's `recordJson` (depth and size walked before `JSON.stringify`, so no
 * record can overflow the stack), then the line's UTF-8 size.
 */
export function serializeRecord(record: unknown): { ok: true; json: string; bytes: Uint8Array } | { ok: false; reason: string } {
  const line = recordJson(record);
  if (!line.ok) return line;
  const bytes = utf8Bytes(line.json);
  const tooLarge = recordBytesReason(bytes.byteLength);
  return tooLarge ? { ok: false, reason: tooLarge } : { ok: true, json: line.json, bytes };
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
