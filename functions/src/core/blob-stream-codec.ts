/**
 * The blob formats of blob-codec.ts, streamed: encoding turns plaintext pieces into stored pieces
 * and decoding the other way, holding one segment (64 KiB) and zlib's window at a time whatever
 * the blob's size. Version 1 blobs stream too: their one tag is checked at their end, and the
 * content store's hash check holds the last piece back until then (content-store.ts).
 */
import { createDecipheriv } from 'node:crypto';
import { Readable, pipeline, type Transform } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import {
  blobVersion,
  checkFlags,
  FLAG_AES_GCM,
  FLAG_GZIP,
  headerLengthV2,
  newHeaderV2,
  openSegment,
  parseHeaderV2,
  sealSegmentParts,
  segmentKey,
  TAG_LENGTH,
  V1_HEADER_LENGTH,
} from './blob-codec';
import { isLifeboatError, lifeboatError } from './errors';

export interface StreamEncodeOptions {
  /** Bytes of plaintext the payload stands for: written in the header, checked by readers. */
  plaintextSize: number;
  /** The payload is the gzip stream of the plaintext (see {@link gzipStream}). @default false */
  gzipped?: boolean;
  /** Encrypt with this 32-byte data key. @default none: stored in the clear */
  key?: Uint8Array;
}

/**
 * Encodes a payload (the plaintext, or its gzip stream) as a version 2 blob, piece by piece. The
 * final segment is yielded only after the payload ended without error, so a store whose put is
 * atomic keeps nothing of a payload that fails part way.
 */
export async function* encodeBlobStream(payload: AsyncIterable<Uint8Array>, options: StreamEncodeOptions): AsyncGenerator<Uint8Array> {
  const header = newHeaderV2({ gzip: options.gzipped ?? false, encrypted: options.key !== undefined, plaintextSize: options.plaintextSize });
  yield header.bytes;
  if (!options.key) {
    let held: Uint8Array | null = null;
    for await (const piece of payload) {
      if (piece.byteLength === 0) continue;
      if (held) yield held;
      held = piece;
    }
    if (held) yield held;
    return;
  }
  const key = segmentKey(options.key, header);
  const segment = Buffer.allocUnsafe(header.segmentSize);
  let fill = 0;
  let index = 0;
  for await (const piece of payload) {
    for (let at = 0; at < piece.byteLength; ) {
      // A full segment is sealed only once more bytes come: until then it may be the final one.
      if (fill === segment.byteLength) {
        // Ciphertext and tag go out as two pieces rather than one joined copy: less garbage.
        yield* sealSegmentParts(key, header, index++, false, segment);
        fill = 0;
      }
      const n = Math.min(segment.byteLength - fill, piece.byteLength - at);
      segment.set(piece.subarray(at, at + n), fill);
      fill += n;
      at += n;
    }
  }
  yield* sealSegmentParts(key, header, index, true, segment.subarray(0, fill));
}

/**
 * Runs pieces through a zlib stream. An error of the source passes through as it is; one of zlib
 * goes through `zlibFailure`.
 */
async function* throughZlib(source: AsyncIterable<Uint8Array>, transform: Transform, zlibFailure: (err: unknown) => unknown): AsyncGenerator<Uint8Array> {
  let sourceFailure: { error: unknown } | undefined;
  async function* guarded(): AsyncGenerator<Uint8Array> {
    try {
      yield* source;
    } catch (err) {
      sourceFailure = { error: err };
      throw err;
    }
  }
  const input = Readable.from(guarded(), { objectMode: false });
  // The callback only keeps the pipeline's error from going unhandled: the loop below sees it.
  pipeline(input, transform, () => undefined);
  try {
    for await (const piece of transform) yield piece as Uint8Array;
  } catch (err) {
    if (sourceFailure) throw sourceFailure.error;
    throw zlibFailure(err);
  } finally {
    input.destroy();
    transform.destroy();
  }
}

/** The gzip stream of some pieces (level 6, as whole-buffer puts use). */
export function gzipStream(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  return throughZlib(source, createGzip({ level: 6 }), (err) => err);
}

function gunzipStream(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  return throughZlib(source, createGunzip(), (err) =>
    isLifeboatError(err) ? err : lifeboatError('data-loss', 'stored blob does not decompress', { cause: err }));
}

/** Reads exact byte counts off the front of a stream of pieces, then hands over the rest. */
class PieceReader {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private pending: Uint8Array | null = null;
  private done = false;

  constructor(private readonly source: AsyncIterable<Uint8Array>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /** Up to `length` bytes (fewer only at the end of the stream). */
  async read(length: number): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let have = 0;
    while (have < length) {
      const piece = this.pending ?? (await this.next());
      this.pending = null;
      if (!piece) break;
      const take = Math.min(length - have, piece.byteLength);
      parts.push(piece.subarray(0, take));
      have += take;
      if (take < piece.byteLength) this.pending = piece.subarray(take);
    }
    return parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts);
  }

  /** Every byte not read yet. */
  async *rest(): AsyncGenerator<Uint8Array> {
    try {
      if (this.pending) yield this.pending;
      this.pending = null;
      for (let piece = await this.next(); piece; piece = await this.next()) yield piece;
    } finally {
      await this.close();
    }
  }

  /** Lets go of the source (a file handle, a socket) without reading it to its end. */
  async close(): Promise<void> {
    if (this.done) return;
    this.done = true;
    const destroy = (this.source as { destroy?: unknown }).destroy;
    if (typeof destroy === 'function') (destroy as () => void).call(this.source);
    await this.iterator.return?.();
  }

  private async next(): Promise<Uint8Array | null> {
    if (this.done) return null;
    const { value, done } = await this.iterator.next();
    if (done) {
      this.done = true;
      return null;
    }
    return value;
  }
}

/** A stored blob opened for reading: its header is read, its plaintext not yet. */
export interface OpenedBlob {
  version: 1 | 2;
  encrypted: boolean;
  /** Plaintext bytes as the header says (version 2), null for version 1 (not recorded). */
  size: number | null;
  /** The plaintext, piece by piece; read once. */
  plaintext: AsyncIterable<Uint8Array>;
  /** Lets go of the stored stream when the plaintext will not be read to its end. */
  close(): Promise<void>;
}

/** Opens version 2 segments as they stream in; see blob-codec.ts for what each check catches. */
async function* openSegments(sealed: AsyncIterable<Uint8Array>, key: Buffer, header: ReturnType<typeof parseHeaderV2>): AsyncGenerator<Uint8Array> {
  const segment = Buffer.allocUnsafe(header.segmentSize + TAG_LENGTH);
  let fill = 0;
  let index = 0;
  for await (const piece of sealed) {
    for (let at = 0; at < piece.byteLength; ) {
      if (fill === segment.byteLength) {
        yield openSegment(key, header, index++, false, segment);
        fill = 0;
      }
      const n = Math.min(segment.byteLength - fill, piece.byteLength - at);
      segment.set(piece.subarray(at, at + n), fill);
      fill += n;
      at += n;
    }
  }
  if (fill < TAG_LENGTH) throw lifeboatError('data-loss', `blob is cut short: its final segment is missing (after ${index} segments)`);
  if (index > 0 && fill === TAG_LENGTH) throw lifeboatError('data-loss', 'blob has an empty final segment');
  yield openSegment(key, header, index, true, segment.subarray(0, fill));
}

/** Decrypts a version 1 payload (nonce, ciphertext, tag) as it streams; the tag is checked at the end. */
async function* openV1(reader: PieceReader, key: Uint8Array, header: Uint8Array): AsyncGenerator<Uint8Array> {
  const nonce = await reader.read(12);
  if (nonce.byteLength < 12) throw lifeboatError('data-loss', 'encrypted blob is truncated');
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAAD(header);
  let tail: Uint8Array = new Uint8Array(0);
  for await (const piece of reader.rest()) {
    const joined = tail.byteLength === 0 ? piece : Buffer.concat([tail, piece]);
    if (joined.byteLength <= TAG_LENGTH) {
      tail = joined;
      continue;
    }
    const out = decipher.update(joined.subarray(0, joined.byteLength - TAG_LENGTH));
    tail = Buffer.from(joined.subarray(joined.byteLength - TAG_LENGTH));
    if (out.byteLength > 0) yield out;
  }
  if (tail.byteLength < TAG_LENGTH) throw lifeboatError('data-loss', 'encrypted blob is truncated');
  let last: Buffer;
  try {
    decipher.setAuthTag(tail);
    last = decipher.final();
  } catch (err) {
    throw lifeboatError('data-loss', 'blob does not decrypt: wrong data key or tampered bytes', { cause: err });
  }
  if (last.byteLength > 0) yield last;
}

/** Passes pieces on and refuses, at the end, a count other than `size`. */
async function* sized(source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  let seen = 0;
  for await (const piece of source) {
    seen += piece.byteLength;
    if (seen > size) throw lifeboatError('data-loss', `blob has more than the ${size} bytes its header says`);
    yield piece;
  }
  if (seen !== size) throw lifeboatError('data-loss', `blob has ${seen} bytes, its header says ${size}`);
}

/**
 * Reads a stored blob's header (either version) and returns its plaintext as a stream. Rejects
 * with `data-loss` for bytes that are not a Lifeboat blob, and `failed-precondition` for an
 * encrypted blob when `dataKey` gives no key; the stream throws `data-loss` where the bytes do not
 * decrypt, decompress or add up to the header's size. `dataKey` is asked only for encrypted blobs.
 */
export async function openStoredBlob(stored: AsyncIterable<Uint8Array>, dataKey: () => Promise<Uint8Array | undefined>): Promise<OpenedBlob> {
  const reader = new PieceReader(stored);
  try {
    const start = await reader.read(V1_HEADER_LENGTH);
    const version = blobVersion(start);
    if (version === null || start.byteLength < V1_HEADER_LENGTH) throw lifeboatError('data-loss', 'stored blob has no Lifeboat header');
    const flags = start[4] ?? 0;
    checkFlags(flags);
    const encrypted = (flags & FLAG_AES_GCM) !== 0;
    const key = encrypted ? await dataKey() : undefined;
    if (encrypted && !key) throw lifeboatError('failed-precondition', 'stored blob is encrypted and no data key was given');
    const gzip = (flags & FLAG_GZIP) !== 0;
    const close = () => reader.close();
    if (version === 1) {
      const payload = key ? openV1(reader, key, start) : reader.rest();
      return { version, encrypted, size: null, plaintext: gzip ? gunzipStream(payload) : payload, close };
    }
    const more = await reader.read(headerLengthV2(flags) - V1_HEADER_LENGTH);
    const header = parseHeaderV2(Buffer.concat([start, more]));
    const payload = key ? openSegments(reader.rest(), segmentKey(key, header), header) : reader.rest();
    return { version, encrypted, size: header.plaintextSize, plaintext: sized(gzip ? gunzipStream(payload) : payload, header.plaintextSize), close };
  } catch (err) {
    await reader.close();
    throw err;
  }
}
