/**
 * The stored form of a content blob: a 5-byte header (`LBB1` + flags) and the payload. The header
 * makes every blob self-describing, so a reader never needs metadata to decode it and the same
 * bytes mean the same thing in a folder and in a bucket.
 *
 * With a data key the payload is encrypted with AES-256-GCM after compression: a 12-byte random
 * nonce, the ciphertext and the 16-byte tag. The header is authenticated as associated data, so
 * flipping a flag fails decryption like any other tampering.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { lifeboatError } from './errors';

const MAGIC = [0x4c, 0x42, 0x42, 0x31]; // "LBB1"
const HEADER_LENGTH = 5;
const FLAG_GZIP = 0b0000_0001;
const FLAG_AES_GCM = 0b0000_0010;
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;

export interface EncodeOptions {
  /** Gzip the payload when that makes it smaller. @default true */
  compress?: boolean;
  /** Encrypt with this 32-byte AES-256-GCM key. @default none: stored in the clear */
  key?: Uint8Array;
}

export interface DecodeOptions {
  /** The data key, needed for encrypted blobs. */
  key?: Uint8Array;
}

/** Whether stored bytes are an encrypted blob (so a reader knows it needs the key). */
export function isEncryptedBlob(stored: Uint8Array): boolean {
  return stored.byteLength >= HEADER_LENGTH && ((stored[4] ?? 0) & FLAG_AES_GCM) !== 0;
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
  if (options.key) flags |= FLAG_AES_GCM;
  const header = new Uint8Array([...MAGIC, flags]);
  if (options.key) {
    const nonce = randomBytes(NONCE_LENGTH);
    const cipher = createCipheriv('aes-256-gcm', options.key, nonce);
    cipher.setAAD(header);
    payload = Buffer.concat([nonce, cipher.update(payload), cipher.final(), cipher.getAuthTag()]);
  }
  const out = new Uint8Array(HEADER_LENGTH + payload.byteLength);
  out.set(header, 0);
  out.set(payload, HEADER_LENGTH);
  return out;
}

/**
 * Inverse of {@link encodeBlob}. Throws `data-loss` for bytes that are not a Lifeboat blob or do
 * not decrypt (wrong key or tampered bytes: GCM cannot tell them apart), and `failed-precondition`
 * for an encrypted blob read without a key.
 */
export function decodeBlob(stored: Uint8Array, options: DecodeOptions = {}): Uint8Array {
  if (stored.byteLength < HEADER_LENGTH || MAGIC.some((b, i) => stored[i] !== b)) {
    throw lifeboatError('data-loss', 'stored blob has no Lifeboat header');
  }
  const flags = stored[4] ?? 0;
  let payload = stored.subarray(HEADER_LENGTH);
  if ((flags & ~(FLAG_GZIP | FLAG_AES_GCM)) !== 0) {
    throw lifeboatError('data-loss', `stored blob has unknown flags ${flags}`);
  }
  if ((flags & FLAG_AES_GCM) !== 0) {
    if (!options.key) throw lifeboatError('failed-precondition', 'stored blob is encrypted and no data key was given');
    if (payload.byteLength < NONCE_LENGTH + TAG_LENGTH) throw lifeboatError('data-loss', 'encrypted blob is truncated');
    try {
      const decipher = createDecipheriv('aes-256-gcm', options.key, payload.subarray(0, NONCE_LENGTH));
      decipher.setAAD(stored.subarray(0, HEADER_LENGTH));
      decipher.setAuthTag(payload.subarray(payload.byteLength - TAG_LENGTH));
      payload = Buffer.concat([decipher.update(payload.subarray(NONCE_LENGTH, payload.byteLength - TAG_LENGTH)), decipher.final()]);
    } catch (err) {
      throw lifeboatError('data-loss', 'blob does not decrypt: wrong data key or tampered bytes', { cause: err });
    }
  }
  if ((flags & FLAG_GZIP) === 0) return payload;
  try {
    return gunzipSync(payload);
  } catch (err) {
    throw lifeboatError('data-loss', 'stored blob does not decompress', { cause: err });
  }
}
