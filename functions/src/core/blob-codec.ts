/**
 * The stored form of a content blob. Every stored blob starts with a header that says how to read
 * it, so a reader never needs metadata and the same bytes mean the same thing in a folder and in a
 * bucket. New blobs are written in version 2; version 1 blobs (written before it) stay readable.
 *
 * Version 2, `LBB2`, made to be written and read as a stream, one segment in memory at a time:
 *
 * | bytes | field |
 * | --- | --- |
 * | 4 | `LBB2` |
 * | 1 | flags: bit 0 the payload is gzip, bit 1 it is encrypted (AES-256-GCM); other bits 0 |
 * | 1 | log2 of the segment size (16: 64 KiB) when encrypted, 0 otherwise |
 * | 8 | plaintext size in bytes, unsigned big-endian |
 * | 16 | salt, when encrypted |
 *
 * The payload (the plaintext, or its gzip stream) follows. Unencrypted, it follows as is. Encrypted,
 * it is cut into segments of the segment size, the last one shorter (never empty unless it is the
 * only one: an empty blob is one empty final segment), and each is sealed on its own, the way
 * age's STREAM and Tink's streaming AEAD do:
 * - the segment key is HKDF-SHA256(the user's data key, salt, `lifeboat blob v2 segments`), so
 *   every blob has its own key and nonces never repeat across blobs;
 * - the nonce of segment i is i as an 11-byte big-endian counter, then 1 for the final segment and
 *   0 for the others, so a segment moved, repeated, dropped or cut short fails its tag, and a
 *   stream cut at a segment boundary ends on a segment not sealed as final, which fails too;
 * - the whole header is every segment's associated data, so no flag, size or salt can change
 *   unnoticed;
 * - each sealed segment is its ciphertext followed by its 16-byte tag.
 * A segment is authenticated before any of its plaintext is released, and a decoder also checks
 * the plaintext's size against the header. Compression is one gzip stream under the segments
 * rather than per segment: text compresses better over gzip's whole window than in 64 KiB
 * pieces, zlib streams in bounded memory either way, and a reader that needs the size before
 * the end (a download's `content-length`) has it from the header. 64 KiB segments (age's size) cost 16 bytes each
 * (0.024 %) and were the fastest of 16 KiB to 1 MiB through Node's AES-GCM here.
 *
 * Version 1, `LBB1`: a 5-byte header (`LBB1` + the same flags), then the payload (gzip of the
 * plaintext when that was smaller), encrypted whole when flagged: a 12-byte random nonce, the
 * ciphertext and one 16-byte tag, with the header as associated data. Read only.
 *
 * This module holds the whole-buffer forms; blob-stream-codec.ts streams the same formats.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { lifeboatError } from './errors';

const MAGIC_V1 = [0x4c, 0x42, 0x42, 0x31]; // "LBB1"
const MAGIC_V2 = [0x4c, 0x42, 0x42, 0x32]; // "LBB2"
export const FLAG_GZIP = 0b0000_0001;
export const FLAG_AES_GCM = 0b0000_0010;
const KNOWN_FLAGS = FLAG_GZIP | FLAG_AES_GCM;
/** Bytes of the version 1 header. */
export const V1_HEADER_LENGTH = 5;
/** Bytes of a version 2 header without, and with, encryption. */
export const V2_HEADER_LENGTH = 14;
export const V2_ENCRYPTED_HEADER_LENGTH = 30;
const SALT_LENGTH = 16;
const V1_NONCE_LENGTH = 12;
export const TAG_LENGTH = 16;
/** log2 of the segment size new blobs are written with: 64 KiB. */
export const SEGMENT_SIZE_LOG2 = 16;
const MIN_SEGMENT_LOG2 = 12;
const MAX_SEGMENT_LOG2 = 24;
/** Segments a blob may have: the counter is 11 bytes, this keeps it a safe integer. */
const MAX_SEGMENTS = 2 ** 40;
const SEGMENT_KEY_INFO = 'lifeboat blob v2 segments';

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

/** What a version 2 header says. */
export interface BlobHeaderV2 {
  /** The header's own bytes: every segment's associated data. */
  bytes: Uint8Array;
  gzip: boolean;
  encrypted: boolean;
  /** Payload bytes per segment (encrypted blobs). */
  segmentSize: number;
  plaintextSize: number;
  salt: Uint8Array | null;
}

const startsWith = (bytes: Uint8Array, magic: readonly number[]): boolean =>
  bytes.byteLength >= magic.length && magic.every((b, i) => bytes[i] === b);

/** The format version of stored bytes from their first 4 bytes, or null when they are not a Lifeboat blob. */
export function blobVersion(stored: Uint8Array): 1 | 2 | null {
  if (startsWith(stored, MAGIC_V2)) return 2;
  if (startsWith(stored, MAGIC_V1)) return 1;
  return null;
}

/** Whether stored bytes are an encrypted blob (so a reader knows it needs the key). */
export function isEncryptedBlob(stored: Uint8Array): boolean {
  return blobVersion(stored) !== null && stored.byteLength > 4 && ((stored[4] ?? 0) & FLAG_AES_GCM) !== 0;
}

/** Checks the flags byte of either version. */
export function checkFlags(flags: number): void {
  if ((flags & ~KNOWN_FLAGS) !== 0) throw lifeboatError('data-loss', `stored blob has unknown flags ${flags}`);
}

/** A version 2 header for a blob about to be written. */
export function newHeaderV2(options: { gzip: boolean; encrypted: boolean; plaintextSize: number }): BlobHeaderV2 {
  if (!Number.isSafeInteger(options.plaintextSize) || options.plaintextSize < 0) {
    throw lifeboatError('invalid-argument', `blob size ${options.plaintextSize} is not a byte count`);
  }
  const salt = options.encrypted ? new Uint8Array(randomBytes(SALT_LENGTH)) : null;
  const bytes = new Uint8Array(salt ? V2_ENCRYPTED_HEADER_LENGTH : V2_HEADER_LENGTH);
  bytes.set(MAGIC_V2, 0);
  bytes[4] = (options.gzip ? FLAG_GZIP : 0) | (options.encrypted ? FLAG_AES_GCM : 0);
  bytes[5] = options.encrypted ? SEGMENT_SIZE_LOG2 : 0;
  new DataView(bytes.buffer).setBigUint64(6, BigInt(options.plaintextSize), false);
  if (salt) bytes.set(salt, V2_HEADER_LENGTH);
  return { bytes, gzip: options.gzip, encrypted: options.encrypted, segmentSize: 2 ** SEGMENT_SIZE_LOG2, plaintextSize: options.plaintextSize, salt };
}

/** How many header bytes a version 2 blob has, from its flags byte (the 5th). */
export function headerLengthV2(flags: number): number {
  return (flags & FLAG_AES_GCM) !== 0 ? V2_ENCRYPTED_HEADER_LENGTH : V2_HEADER_LENGTH;
}

/** Reads a version 2 header from the first bytes of a blob; `data-loss` when it is not one. */
export function parseHeaderV2(stored: Uint8Array): BlobHeaderV2 {
  if (!startsWith(stored, MAGIC_V2) || stored.byteLength < V2_HEADER_LENGTH) throw lifeboatError('data-loss', 'stored blob has no Lifeboat v2 header');
  const flags = stored[4] ?? 0;
  checkFlags(flags);
  const encrypted = (flags & FLAG_AES_GCM) !== 0;
  const length = headerLengthV2(flags);
  if (stored.byteLength < length) throw lifeboatError('data-loss', 'stored blob header is truncated');
  const log2 = stored[5] ?? 0;
  if (encrypted ? log2 < MIN_SEGMENT_LOG2 || log2 > MAX_SEGMENT_LOG2 : log2 !== 0) {
    throw lifeboatError('data-loss', `stored blob has a bad segment size (2^${log2})`);
  }
  const size = new DataView(stored.buffer, stored.byteOffset, length).getBigUint64(6, false);
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw lifeboatError('data-loss', 'stored blob header has an impossible size');
  const bytes = stored.slice(0, length);
  return {
    bytes,
    gzip: (flags & FLAG_GZIP) !== 0,
    encrypted,
    segmentSize: 2 ** log2,
    plaintextSize: Number(size),
    salt: encrypted ? bytes.subarray(V2_HEADER_LENGTH, length) : null,
  };
}

/** The key a blob's segments are sealed with (see the module comment). */
export function segmentKey(dataKey: Uint8Array, header: BlobHeaderV2): Buffer {
  if (!header.salt) throw lifeboatError('internal', 'segment key asked for an unencrypted blob');
  return Buffer.from(hkdfSync('sha256', dataKey, header.salt, SEGMENT_KEY_INFO, 32));
}

function segmentNonce(index: number, final: boolean): Buffer {
  if (!Number.isSafeInteger(index) || index < 0 || index >= MAX_SEGMENTS) throw lifeboatError('invalid-argument', `blob has too many segments (${index})`);
  const nonce = Buffer.alloc(12);
  nonce.writeUIntBE(index, 5, 6);
  nonce[11] = final ? 1 : 0;
  return nonce;
}

/** Seals segment `index` of a blob: its ciphertext and its tag, stored one after the other. */
export function sealSegmentParts(key: Buffer, header: BlobHeaderV2, index: number, final: boolean, plaintext: Uint8Array): [Buffer, Buffer] {
  const cipher = createCipheriv('aes-256-gcm', key, segmentNonce(index, final));
  cipher.setAAD(header.bytes);
  const body = cipher.update(plaintext);
  cipher.final();
  return [body, cipher.getAuthTag()];
}

/** Seals segment `index` of a blob: its ciphertext followed by its tag. */
export function sealSegment(key: Buffer, header: BlobHeaderV2, index: number, final: boolean, plaintext: Uint8Array): Buffer {
  return Buffer.concat(sealSegmentParts(key, header, index, final, plaintext));
}

/**
 * Opens segment `index` (ciphertext and tag), or throws `data-loss`: a wrong key, changed bytes, a
 * segment out of place or a final segment missing all fail the tag alike.
 */
export function openSegment(key: Buffer, header: BlobHeaderV2, index: number, final: boolean, sealed: Uint8Array): Buffer {
  if (sealed.byteLength < TAG_LENGTH) throw lifeboatError('data-loss', `blob segment ${index} is truncated`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, segmentNonce(index, final));
    decipher.setAAD(header.bytes);
    decipher.setAuthTag(sealed.subarray(sealed.byteLength - TAG_LENGTH));
    const body = decipher.update(sealed.subarray(0, sealed.byteLength - TAG_LENGTH));
    decipher.final();
    return body;
  } catch (err) {
    throw lifeboatError('data-loss', `blob segment ${index}${final ? ' (final)' : ''} does not decrypt: wrong data key or tampered bytes (a segment changed, moved, repeated or cut off)`, { cause: err });
  }
}

/**
 * Encodes a whole blob in memory, in version 2 (what `ContentStore.put` writes, streamed; this form
 * is for small objects and tests).
 */
export function encodeBlob(plaintext: Uint8Array, options: EncodeOptions = {}): Uint8Array {
  let payload: Uint8Array = plaintext;
  let gzip = false;
  if (options.compress ?? true) {
    const gz = gzipSync(plaintext, { level: 6 });
    // Already-compressed input (JPEG, MP4) grows under gzip: keep it as it is.
    if (gz.byteLength < plaintext.byteLength) {
      payload = gz;
      gzip = true;
    }
  }
  const header = newHeaderV2({ gzip, encrypted: options.key !== undefined, plaintextSize: plaintext.byteLength });
  if (!options.key) return Buffer.concat([header.bytes, payload]);
  const key = segmentKey(options.key, header);
  const parts: Uint8Array[] = [header.bytes];
  const count = Math.max(1, Math.ceil(payload.byteLength / header.segmentSize));
  for (let i = 0; i < count; i++) {
    parts.push(sealSegment(key, header, i, i === count - 1, payload.subarray(i * header.segmentSize, (i + 1) * header.segmentSize)));
  }
  return Buffer.concat(parts);
}

function decodeV1(stored: Uint8Array, options: DecodeOptions): Uint8Array {
  if (stored.byteLength < V1_HEADER_LENGTH) throw lifeboatError('data-loss', 'stored blob has no Lifeboat header');
  const flags = stored[4] ?? 0;
  checkFlags(flags);
  let payload = stored.subarray(V1_HEADER_LENGTH);
  if ((flags & FLAG_AES_GCM) !== 0) {
    if (!options.key) throw lifeboatError('failed-precondition', 'stored blob is encrypted and no data key was given');
    if (payload.byteLength < V1_NONCE_LENGTH + TAG_LENGTH) throw lifeboatError('data-loss', 'encrypted blob is truncated');
    try {
      const decipher = createDecipheriv('aes-256-gcm', options.key, payload.subarray(0, V1_NONCE_LENGTH));
      decipher.setAAD(stored.subarray(0, V1_HEADER_LENGTH));
      decipher.setAuthTag(payload.subarray(payload.byteLength - TAG_LENGTH));
      payload = Buffer.concat([decipher.update(payload.subarray(V1_NONCE_LENGTH, payload.byteLength - TAG_LENGTH)), decipher.final()]);
    } catch (err) {
      throw lifeboatError('data-loss', 'blob does not decrypt: wrong data key or tampered bytes', { cause: err });
    }
  }
  return (flags & FLAG_GZIP) === 0 ? payload : gunzipOrDataLoss(payload);
}

function decodeV2(stored: Uint8Array, options: DecodeOptions): Uint8Array {
  const header = parseHeaderV2(stored);
  let payload = stored.subarray(header.bytes.byteLength);
  if (header.encrypted) {
    if (!options.key) throw lifeboatError('failed-precondition', 'stored blob is encrypted and no data key was given');
    const key = segmentKey(options.key, header);
    const sealedSize = header.segmentSize + TAG_LENGTH;
    const count = Math.max(1, Math.ceil(payload.byteLength / sealedSize));
    const parts: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const sealed = payload.subarray(i * sealedSize, (i + 1) * sealedSize);
      if (i > 0 && i === count - 1 && sealed.byteLength === TAG_LENGTH) throw lifeboatError('data-loss', 'blob has an empty final segment');
      parts.push(openSegment(key, header, i, i === count - 1, sealed));
    }
    payload = Buffer.concat(parts);
  }
  const plaintext = header.gzip ? gunzipOrDataLoss(payload) : payload;
  if (plaintext.byteLength !== header.plaintextSize) {
    throw lifeboatError('data-loss', `blob has ${plaintext.byteLength} bytes, its header says ${header.plaintextSize}`);
  }
  return plaintext;
}

function gunzipOrDataLoss(payload: Uint8Array): Uint8Array {
  try {
    return gunzipSync(payload);
  } catch (err) {
    throw lifeboatError('data-loss', 'stored blob does not decompress', { cause: err });
  }
}

/**
 * Inverse of {@link encodeBlob}, for both versions, in memory. Throws `data-loss` for bytes that
 * are not a Lifeboat blob or do not decrypt (wrong key or tampered bytes: GCM cannot tell them
 * apart), and `failed-precondition` for an encrypted blob read without a key.
 */
export function decodeBlob(stored: Uint8Array, options: DecodeOptions = {}): Uint8Array {
  switch (blobVersion(stored)) {
    case 2:
      return decodeV2(stored, options);
    case 1:
      return decodeV1(stored, options);
    default:
      throw lifeboatError('data-loss', 'stored blob has no Lifeboat header');
  }
}
