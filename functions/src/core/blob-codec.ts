/**
 * The stored form of a content blob: a 5-byte header (`LBB1` + flags) and the payload. The header
 * makes every blob self-describing, so a reader never needs metadata to decode it and the same
 * bytes mean the same thing in a folder and in a bucket.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { lifeboatError } from './errors';

const MAGIC = [0x4c, 0x42, 0x42, 0x31]; // "LBB1"
const HEADER_LENGTH = 5;
const FLAG_GZIP = 0b0000_0001;

export interface EncodeOptions {
  /** Gzip the payload when that makes it smaller. @default true */
  compress?: boolean;
}

export function encodeBlob(plaintext: Uint8Array, options: EncodeOptions = {}): Uint8Array {
  let flags = 0;
  let payload: Uint8Array = plaintext;
  if (options.compress ?? true) {
    const gz = gzipSync(plaintext, { level: 6 });
    // Already-compressed input (JPEG, MP4) grows under gzip: keep it as it is.
    if (gz.byteLength < plaintext.byteLength) {
      payload = gz;
      flags |= FLAG_GZIP;
    }
  }
  const out = new Uint8Array(HEADER_LENGTH + payload.byteLength);
  out.set(MAGIC, 0);
  out[4] = flags;
  out.set(payload, HEADER_LENGTH);
  return out;
}

/** Inverse of {@link encodeBlob}; throws `data-loss` for bytes that are not a Lifeboat blob. */
export function decodeBlob(stored: Uint8Array): Uint8Array {
  if (stored.byteLength < HEADER_LENGTH || MAGIC.some((b, i) => stored[i] !== b)) {
    throw lifeboatError('data-loss', 'stored blob has no Lifeboat header');
  }
  const flags = stored[4] ?? 0;
  const payload = stored.subarray(HEADER_LENGTH);
  if ((flags & ~FLAG_GZIP) !== 0) {
    throw lifeboatError('data-loss', `stored blob has unknown flags ${flags}`);
  }
  if ((flags & FLAG_GZIP) === 0) return payload;
  try {
    return gunzipSync(payload);
  } catch (err) {
    throw lifeboatError('data-loss', 'stored blob does not decompress', { cause: err });
  }
}
