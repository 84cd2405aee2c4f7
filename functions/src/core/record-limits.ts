/**
 * Limits on one record (a contact, a chat message, device info) and on the records of one chunk,
 * checked where records cross a boundary: by the SDK before it packs a record, and by the server
 * before it reads one (issue 16). A record over a limit is that record's skipped item with the
 * reason, never its chunk's or its job's failure.
 *
 * The limits and the serializer are the protocol's (`@lifeboat/protocol`), which the SDK uses too.
 */
import { RECORD_LIMITS, recordBytesReason, recordJson, SKIPPED_MARKER } from '@lifeboat/protocol';
import { lifeboatError } from './errors';

export { RECORD_LIMITS, SKIPPED_MARKER };

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
  const tooLarge = recordBytesReason(lineBytes);
  if (tooLarge) return tooLarge;
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
 * A record's JSON line (no newline) when it is within the limits, else the reason it is not (the
 * protocol's `recordJson`, then the line's UTF-8 size). For records the server produces itself
 * (a server-side chat source); the SDK checks its records the same way.
 */
export function serializeRecord(record: unknown): { ok: true; json: string } | { ok: false; reason: string } {
  const line = recordJson(record);
  if (!line.ok) return line;
  const tooLarge = recordBytesReason(encoder.encode(line.json).byteLength);
  return tooLarge ? { ok: false, reason: tooLarge } : line;
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
