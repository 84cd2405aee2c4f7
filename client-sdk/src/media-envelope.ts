/**
 * The `media` chunk envelope, encode side (the server decodes in
 * functions/src/strategies/media-envelope.ts; the two agree by contract, checked by a round-trip
 * test). Layout: `LBM1` (4 ASCII bytes), the header length as a 4-byte big-endian unsigned
 * integer, the UTF-8 JSON header, then the file's bytes. Uint8Array and TextEncoder only, so it
 * runs on React Native as well as Node.
 */

export const MEDIA_ENVELOPE_MAGIC = 'LBM1';

/** What the envelope says about its file; `size` is filled in from the bytes. */
export interface MediaEnvelopeHeader {
  sourceId: string;
  name: string;
  mimeType?: string;
  /** Capture time (ISO 8601). */
  takenAt?: string;
}

const encoder = new TextEncoder();

export function encodeMediaEnvelope(header: MediaEnvelopeHeader, bytes: Uint8Array): Uint8Array {
  // Fixed key order, so the same file always makes the same chunk (and the same chunk id).
  const json: Record<string, unknown> = { sourceId: header.sourceId, name: header.name };
  if (header.mimeType !== undefined) json['mimeType'] = header.mimeType;
  json['size'] = bytes.byteLength;
  if (header.takenAt !== undefined) json['takenAt'] = header.takenAt;
  const head = encoder.encode(JSON.stringify(json));
  const out = new Uint8Array(8 + head.byteLength + bytes.byteLength);
  for (let i = 0; i < 4; i++) out[i] = MEDIA_ENVELOPE_MAGIC.charCodeAt(i);
  new DataView(out.buffer).setUint32(4, head.byteLength, false);
  out.set(head, 8);
  out.set(bytes, 8 + head.byteLength);
  return out;
}
