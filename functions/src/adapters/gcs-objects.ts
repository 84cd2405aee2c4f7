/**
 * What the Cloud Storage adapters share: object names under an optional prefix, and the custom
 * metadata Lifeboat keeps on objects besides the caller's own.
 */
import { lifeboatError } from '../core/errors';
import { assertBlobPrefix } from '../ports';

/**
 * Custom metadata on every object the GcsBlobStore writes. The storage trigger ignores objects
 * that carry it: only device uploads (through session URIs) are events for the engine.
 */
export const LIFEBOAT_WRITTEN = 'lifeboat-written';

/** Custom metadata holding the SHA-256 (hex) of an object's bytes, checked on full reads. */
export const LIFEBOAT_SHA256 = 'lifeboat-sha256';

/** Metadata names the adapters own: refused from callers, hidden from `stat` and `list`. */
export const RESERVED_METADATA: readonly string[] = [LIFEBOAT_WRITTEN, LIFEBOAT_SHA256];

/** Sessions handed to devices last a week, as GCS keeps resumable sessions. */
export const RESUMABLE_SESSION_TTL_MS = 7 * 24 * 3600 * 1000;

/**
 * Checks an object-name prefix (`''`, or folders ending in `/`, e.g. `lifeboat/`) and returns it.
 *
 * @throws LifeboatError `invalid-argument` for a prefix that is not whole key segments each
 *   followed by `/`.
 */
export function checkObjectPrefix(prefix: string | undefined): string {
  if (prefix === undefined || prefix === '') return '';
  const { partial } = assertBlobPrefix(prefix);
  if (partial !== '') throw lifeboatError('invalid-argument', `object prefix ${JSON.stringify(prefix)} must end with /`);
  return prefix;
}

/**
 * The caller's part of an object's custom metadata: string values only (GCS may hold other JSON
 * types when another tool wrote them), reserved names left out.
 */
export function callerMetadata(metadata: Record<string, unknown> | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata ?? {})) {
    if (typeof value === 'string' && !RESERVED_METADATA.includes(name)) out[name] = value;
  }
  return out;
}

/**
 * Checks metadata a caller asks to store.
 *
 * @throws LifeboatError `invalid-argument` for a reserved name or a value that is not a string.
 */
export function checkCallerMetadata(metadata: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata ?? {})) {
    if (RESERVED_METADATA.includes(name)) throw lifeboatError('invalid-argument', `metadata name ${name} is reserved`);
    if (typeof value !== 'string') throw lifeboatError('invalid-argument', `metadata ${name} must be a string`);
    out[name] = value;
  }
  return out;
}
