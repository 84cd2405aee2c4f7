/**
 * The `media` chunk envelope, encode side (the server decodes in
 * functions/src/strategies/media-envelope.ts; the two agree by contract, checked by a round-trip
 * test). Layout: `LBM1` (4 ASCII bytes), the header length as a 4-byte big-endian unsigned
 * integer, the UTF-8 JSON header, then the file's bytes. Uint8Array and UTF-8 (utf8.ts) only, so it
 * runs on React Native as well as Node.
 */
import { utf8Bytes } from './utf8';

export const MEDIA_ENVELOPE_MAGIC = 'LBM1';

/**
 * What the envelope says about its file; `size` is filled in from the bytes. Besides the id, the
 * fields travel into the snapshot's manifest (`meta`) and back out on restore.
 */
export interface MediaEnvelopeHeader {
  sourceId: string;
  /** The file's name in the app; restore writes the file under it. */
  name: string;
  mimeType?: string;
  /** Capture time (ISO 8601). */
  takenAt?: string;
  /** Created on the device (ISO 8601). */
  createdAt?: string;
  /** Last modified on the device (ISO 8601); a folder restore gives the file this time. */
  modifiedAt?: string;
  /** The album or folder the file is in. */
  album?: string;
}

/**
 * Where a part of a file too large for one chunk sits in the file. The server stores each part
 * as its own blob, as is; restore concatenates a file's parts in `offset` order up to `fileSize`.
 * A part with no bytes and a `fileSize` over the job's `maxMediaSizeMB` stands for a file the
 * device did not send because the server would skip it.
 */
export interface MediaSegment {
  /** 0, 1, 2 ... in file order. */
  index: number;
  /** Where the part's bytes start in the file. */
  offset: number;
  /** Bytes of the whole file. */
  fileSize: number;
}


/**
 * The envelope's first bytes (magic, length, JSON header) for a body of `size` bytes; the body
 * follows them. Separate from the body so a file can be streamed behind it.
 */
export function encodeMediaEnvelopeHead(header: MediaEnvelopeHeader, size: number, segment?: MediaSegment): Uint8Array {
  // Fixed key order, so the same file always makes the same chunk (and the same chunk id).
  const json: Record<string, unknown> = { sourceId: header.sourceId, name: header.name };
  if (header.mimeType !== undefined) json['mimeType'] = header.mimeType;
  json['size'] = size;
  if (header.takenAt !== undefined) json['takenAt'] = header.takenAt;
  // After the older fields: a file without the newer ones keeps the chunk id it had.
  if (header.createdAt !== undefined) json['createdAt'] = header.createdAt;
  if (header.modifiedAt !== undefined) json['modifiedAt'] = header.modifiedAt;
  if (header.album !== undefined) json['album'] = header.album;
  if (segment) json['segment'] = { index: segment.index, offset: segment.offset, fileSize: segment.fileSize };
  const head = utf8Bytes(JSON.stringify(json));
  const out = new Uint8Array(8 + head.byteLength);
  for (let i = 0; i < 4; i++) out[i] = MEDIA_ENVELOPE_MAGIC.charCodeAt(i);
  new DataView(out.buffer).setUint32(4, head.byteLength, false);
  out.set(head, 8);
  return out;
}

export function encodeMediaEnvelope(header: MediaEnvelopeHeader, bytes: Uint8Array, segment?: MediaSegment): Uint8Array {
  const head = encodeMediaEnvelopeHead(header, bytes.byteLength, segment);
  const out = new Uint8Array(head.byteLength + bytes.byteLength);
  out.set(head, 0);
  out.set(bytes, head.byteLength);
  return out;
}
