/**
 * The `media` chunk envelope, decode side (the SDK's client-sdk/src/media-envelope.ts encodes;
 * the two are kept in step by contract and by a round-trip test, not by a shared import, so the
 * SDK stays free of server code). Layout: `LBM1` (4 ASCII bytes), the header length as a 4-byte
 * big-endian unsigned integer, the UTF-8 JSON header, then the file's bytes.
 */
import { z } from 'zod';
import { IsoDateTime, MAX_META_NAME_CHARS, type ItemMeta } from '../core/model';
import { decodeUtf8 } from './strategy';

export const MEDIA_ENVELOPE_MAGIC = 'LBM1';

/** Headers are a few hundred bytes; the cap keeps a hostile length from meaning anything. */
export const MAX_MEDIA_HEADER_BYTES = 64 * 1024;

/**
 * The header. What identifies the bytes (`sourceId`, `size`, `segment`) must be right or the file
 * is skipped; what describes the file (name, type, times, album) is bounded here and checked by
 * {@link mediaMetaOf}, which drops a field it cannot keep with a warning rather than lose the file.
 */
export const MediaHeader = z.strictObject({
  /** The file's id in the app (asset id, path). */
  sourceId: z.string().min(1).max(1024),
  /** File name as the device shows it; restore writes the file under it (the type is detected from the bytes). */
  name: z.string().max(MAX_META_NAME_CHARS),
  mimeType: z.string().max(255).optional(),
  /** Bytes of the file, which must equal the bytes after the header. */
  size: z.number().int().nonnegative(),
  /** Capture time as the device reports it (ISO 8601). */
  takenAt: z.string().max(64).optional(),
  /** When the file was created on the device (ISO 8601). */
  createdAt: z.string().max(64).optional(),
  /** When the file was last modified on the device (ISO 8601). */
  modifiedAt: z.string().max(64).optional(),
  /** The album or folder the file is in. */
  album: z.string().max(MAX_META_NAME_CHARS).optional(),
  /**
   * A part of a file too large for one chunk (over 16 MiB): where its bytes (`size` of them) sit
   * in the file. Each part is stored as is, as its own blob; restore joins a file's parts in
   * `offset` order (docs/media.md, "Large files").
   */
  segment: z
    .strictObject({ index: z.number().int().nonnegative(), offset: z.number().int().nonnegative(), fileSize: z.number().int().nonnegative() })
    .refine((s) => s.offset <= s.fileSize, { error: 'segment offset is past the end of the file' })
    .optional(),
});
export type MediaHeader = z.infer<typeof MediaHeader>;

export type DecodedMediaEnvelope =
  | { ok: true; header: MediaHeader; body: Uint8Array }
  | { ok: false; reason: string; /** The header's sourceId when it was readable. */ sourceId?: string };

/** Splits a chunk into header and file bytes; never throws, a bad envelope gives the reason. */
export function decodeMediaEnvelope(bytes: Uint8Array): DecodedMediaEnvelope {
  if (bytes.byteLength < 8) return { ok: false, reason: 'bad media envelope: shorter than 8 bytes' };
  const magic = String.fromCharCode(bytes[0] ?? 0, bytes[1] ?? 0, bytes[2] ?? 0, bytes[3] ?? 0);
  if (magic !== MEDIA_ENVELOPE_MAGIC) return { ok: false, reason: `bad media envelope: does not start with ${MEDIA_ENVELOPE_MAGIC}` };
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, false);
  if (headerLength > MAX_MEDIA_HEADER_BYTES || 8 + headerLength > bytes.byteLength) {
    return { ok: false, reason: `bad media envelope: header length ${headerLength} does not fit` };
  }
  const text = decodeUtf8(bytes.subarray(8, 8 + headerLength));
  if (text === null) return { ok: false, reason: 'bad media envelope: header is not valid UTF-8' };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `bad media envelope: header is not JSON (${(err as Error).message})` };
  }
  const sourceId = json && typeof json === 'object' && typeof (json as { sourceId?: unknown }).sourceId === 'string'
    ? { sourceId: (json as { sourceId: string }).sourceId }
    : {};
  const parsed = MediaHeader.safeParse(json);
  if (!parsed.success) {
    return { ok: false, reason: `bad media envelope: ${z.prettifyError(parsed.error).replace(/\n/g, ' ')}`, ...sourceId };
  }
  const body = bytes.subarray(8 + headerLength);
  if (body.byteLength !== parsed.data.size) {
    return { ok: false, reason: `bad media envelope: header says ${parsed.data.size} bytes, ${body.byteLength} follow`, ...sourceId };
  }
  const segment = parsed.data.segment;
  if (segment && segment.offset + body.byteLength > segment.fileSize) {
    return { ok: false, reason: `bad media envelope: part at ${segment.offset} of ${body.byteLength} bytes passes the file's ${segment.fileSize}`, ...sourceId };
  }
  return { ok: true, header: parsed.data, body };
}

const META_TIMES = ['takenAt', 'createdAt', 'modifiedAt'] as const;

/**
 * The manifest `meta` of a file from its header: name, MIME type, times and album, each kept only
 * when it is valid (a time must be ISO 8601). A field that is not is dropped and named in
 * `warnings`: a bad date never costs the user the photo. Empty strings mean absent.
 */
export function mediaMetaOf(header: MediaHeader): { meta: ItemMeta | undefined; warnings: string[] } {
  const meta: ItemMeta = {};
  const warnings: string[] = [];
  if (header.name !== '') meta.name = header.name;
  if (header.mimeType !== undefined && header.mimeType !== '') meta.mimeType = header.mimeType;
  for (const field of META_TIMES) {
    const value = header[field];
    if (value === undefined || value === '') continue;
    if (IsoDateTime.safeParse(value).success) meta[field] = value;
    else warnings.push(`${field} dropped: ${JSON.stringify(value)} is not an ISO 8601 date and time`);
  }
  if (header.album !== undefined && header.album !== '') meta.album = header.album;
  return { meta: Object.keys(meta).length > 0 ? meta : undefined, warnings };
}
