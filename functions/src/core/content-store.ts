/**
 * Content-addressed blobs in a user's namespace (see docs/invariants.md, "Blobs"). A blob is named
 * by the SHA-256 of its plaintext, written create-if-absent and checked against its name on every
 * read. Blobs stream both ways (`putStream`, `getStream`), one 64 KiB segment in memory at a time;
 * `put` and `get` are the whole-buffer forms for small objects (chunk results, manifests).
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { BlobStore, CallOptions, KeyRing } from '../ports';
import { readAll } from '../ports/blob-store';
import { throwIfAborted } from '../ports/cancellation';
import { encodeBlobStream, gzipStream, openStoredBlob } from './blob-stream-codec';
import { hasCode, isLifeboatError, lifeboatError, wrapError } from './errors';
import { sha256Hex } from './hash';
import { blobKey } from './keys';

export interface PutContentOptions extends CallOptions {
  /**
   * Gzip the plaintext. `put` keeps the gzip only when it is smaller; `putStream` cannot know in
   * advance and always gzips, so pass false for content that is compressed already (media).
   * @default true
   */
  compress?: boolean;
}

export interface PutStreamOptions extends PutContentOptions {
  /** SHA-256 of the plaintext (its name), lower-case hex. */
  sha256: string;
  /** Plaintext bytes. */
  size: number;
}

export interface PutContentResult {
  hash: string;
  /** Plaintext bytes. */
  size: number;
  /** Bytes the blob occupies in the store. */
  storedSize: number;
  /** False when the user already had this blob: nothing was written. */
  created: boolean;
}

/** A blob's plaintext as a stream, read once. */
export interface ContentStream extends AsyncIterable<Uint8Array> {
  /** Plaintext bytes, from the stored header; null for blobs written before it recorded them. */
  readonly size: number | null;
  /** Lets go of the stored bytes (a file, a socket) when the stream will not be read to its end. */
  close(): Promise<void>;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
/** Pieces a whole-buffer put hands the encoder: views of the caller's bytes, never copies. */
const PUT_PIECE = 1024 * 1024;
/**
 * Blobs up to this size are encoded in memory and handed to the store as one buffer: on Cloud
 * Storage that is one request with the object's hash in its metadata, where a streamed body
 * takes a second request to record it. Most blobs are this small (chunk results, packs, manifests).
 */
const INLINE_PUT_BYTES = 1024 * 1024;

function* slices(bytes: Uint8Array): Generator<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += PUT_PIECE) yield bytes.subarray(at, at + PUT_PIECE);
}

async function* fromSync(pieces: Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* pieces;
}

/** Ends a source that will not be read (a stream a caller handed over), so it frees what it holds. */
async function release(source: AsyncIterable<Uint8Array>): Promise<void> {
  const destroy = (source as { destroy?: unknown }).destroy;
  if (typeof destroy === 'function') (destroy as () => void).call(source);
  else await source[Symbol.asyncIterator]().return?.();
}

/**
 * Passes a put's plaintext through, hashing and counting it; at its end, refuses (`data-loss`)
 * content that is not what the caller named. The refusal comes before the encoder releases the
 * final segment, so the store never completes the object.
 */
async function* expected(source: AsyncIterable<Uint8Array>, sha256: string, size: number, signal: AbortSignal | undefined): AsyncGenerator<Uint8Array> {
  const hash = createHash('sha256');
  let seen = 0;
  for await (const piece of source) {
    throwIfAborted(signal);
    if (!(piece instanceof Uint8Array)) throw lifeboatError('invalid-argument', 'content pieces must be Uint8Array');
    seen += piece.byteLength;
    if (seen > size) throw lifeboatError('data-loss', `content is longer than the ${size} bytes announced [blob=${sha256}]`, { retryable: false });
    hash.update(piece);
    yield piece;
  }
  if (seen !== size) throw lifeboatError('data-loss', `content has ${seen} bytes, ${size} were announced [blob=${sha256}]`, { retryable: false });
  if (hash.digest('hex') !== sha256) throw lifeboatError('data-loss', `content does not match its name ${sha256}`, { retryable: false });
}

export class ContentStore {
  /**
   * @param keyRing encrypts new blobs with the user's data key and decrypts encrypted ones.
   * @default none: blobs are stored in the clear (blobs written encrypted still need a key ring)
   */
  constructor(
    private readonly blobs: BlobStore,
    private readonly keyRing?: KeyRing,
  ) {}

  /** Stores bytes held in memory; gzipped when that makes them smaller. */
  async put(uid: string, plaintext: Uint8Array, options: PutContentOptions = {}): Promise<PutContentResult> {
    const hash = sha256Hex(plaintext);
    const signalOpt = options.signal ? { signal: options.signal } : {};
    // Looking first skips the encode for content the user already has (the common case on a
    // repeated backup); the create-if-absent put below still settles any race.
    const existing = await this.blobs.stat(blobKey(uid, hash), signalOpt);
    if (existing) return { hash, size: plaintext.byteLength, storedSize: existing.size, created: false };
    let payload = plaintext;
    let gzipped = false;
    if (options.compress ?? true) {
      const gz = gzipSync(plaintext, { level: 6 });
      // Already-compressed input (JPEG, MP4) grows under gzip: keep it as it is.
      if (gz.byteLength < plaintext.byteLength) {
        payload = gz;
        gzipped = true;
      }
    }
    return this.write(uid, hash, plaintext.byteLength, fromSync(slices(payload)), gzipped, options.signal);
  }

  /**
   * Stores a stream of plaintext under the name the caller gives (`sha256`, with `size`), hashing
   * it as it goes: a source that does not match is refused with `data-loss` before the store
   * completes the object, so nothing is stored under a wrong name, and the store's create-if-absent
   * put keeps its atomicity (Cloud Storage: a single-request upload that fails part way leaves no
   * object; the folder store: a temp file never linked). Every caller knows the name first: a
   * chunk's bytes are hashed when they are read, and files larger than a chunk arrive in parts.
   * When the user has the blob already the source is released unread.
   */
  async putStream(uid: string, source: AsyncIterable<Uint8Array>, options: PutStreamOptions): Promise<PutContentResult> {
    const { sha256, size } = options;
    if (!SHA256_HEX.test(sha256)) throw lifeboatError('invalid-argument', `content name ${JSON.stringify(sha256)} is not a SHA-256`);
    if (!Number.isSafeInteger(size) || size < 0) throw lifeboatError('invalid-argument', `content size ${size} is not a byte count`);
    const signalOpt = options.signal ? { signal: options.signal } : {};
    const existing = await this.blobs.stat(blobKey(uid, sha256), signalOpt);
    if (existing) {
      await release(source);
      return { hash: sha256, size, storedSize: existing.size, created: false };
    }
    const compress = options.compress ?? true;
    const checked = expected(source, sha256, size, options.signal);
    return this.write(uid, sha256, size, compress ? gzipStream(checked) : checked, compress, options.signal);
  }

  private async write(uid: string, hash: string, size: number, payload: AsyncIterable<Uint8Array>, gzipped: boolean, signal: AbortSignal | undefined): Promise<PutContentResult> {
    const signalOpt = signal ? { signal } : {};
    const dataKey = this.keyRing ? await this.keyRing.dataKey(uid, signalOpt) : undefined;
    const encoded = encodeBlobStream(payload, { plaintextSize: size, gzipped, ...(dataKey ? { key: dataKey } : {}) });
    const body = size <= INLINE_PUT_BYTES ? await readAll(encoded) : encoded;
    const result = await this.blobs.put(blobKey(uid, hash), body, { ...signalOpt, ifAbsent: true });
    return { hash, size, storedSize: result.size, created: result.created };
  }

  /**
   * Opens a blob's plaintext as a stream. Rejects with `not-found` when the blob is absent and
   * `data-loss` when its header is not a blob's. While streaming, the plaintext is hashed; the
   * last piece is released only once the hash matched the blob's name (and, for encrypted blobs,
   * every segment was authenticated before its bytes were released). On a mismatch the stream
   * throws `data-loss` instead of ending: a consumer may have seen every piece but the last, so it
   * must not treat what it has as the blob until the stream ended without error.
   */
  async getStream(uid: string, hash: string, options: CallOptions = {}): Promise<ContentStream> {
    const key = blobKey(uid, hash);
    let stored: AsyncIterable<Uint8Array>;
    try {
      stored = await this.blobs.get(key, options);
    } catch (err) {
      if (hasCode(err, 'not-found')) throw lifeboatError('not-found', `blob ${hash} is missing [uid=${uid}]`, { retryable: false });
      throw wrapError(err, 'blob read failed', { uid, blob: hash });
    }
    let opened: Awaited<ReturnType<typeof openStoredBlob>>;
    try {
      opened = await openStoredBlob(stored, async () => (this.keyRing ? this.keyRing.dataKey(uid, options) : undefined));
    } catch (err) {
      throw wrapError(err, 'blob read failed', { uid, blob: hash });
    }
    const plaintext = checkedPlaintext(opened.plaintext, uid, hash, options.signal);
    const close = async () => {
      // Ends the decoding chain (its zlib stream, if any), then the stored stream under it.
      await plaintext.return(undefined);
      await opened.close();
    };
    return { size: opened.size, close, [Symbol.asyncIterator]: () => plaintext };
  }

  /** Returns the plaintext; `not-found` when absent, `data-loss` when the bytes do not match. */
  async get(uid: string, hash: string, options: CallOptions = {}): Promise<Uint8Array> {
    const stream = await this.getStream(uid, hash, options);
    return readAll(stream, stream.size === null ? {} : { size: stream.size });
  }

  async has(uid: string, hash: string, options: CallOptions = {}): Promise<boolean> {
    return this.blobs.exists(blobKey(uid, hash), options);
  }
}

/** See `getStream`: hashes the plaintext and holds its last piece back until the hash matched. */
async function* checkedPlaintext(source: AsyncIterable<Uint8Array>, uid: string, name: string, signal: AbortSignal | undefined): AsyncGenerator<Uint8Array> {
  const hash = createHash('sha256');
  let held: Uint8Array | null = null;
  try {
    for await (const piece of source) {
      throwIfAborted(signal);
      hash.update(piece);
      if (held) yield held;
      held = piece;
    }
  } catch (err) {
    if (isLifeboatError(err) && err.code === 'data-loss') throw lifeboatError('data-loss', `blob ${name} is corrupt [uid=${uid}]: ${err.message}`, { cause: err });
    throw wrapError(err, 'blob read failed', { uid, blob: name });
  }
  if (hash.digest('hex') !== name) throw lifeboatError('data-loss', `blob ${name} does not match its hash [uid=${uid}]`);
  if (held) yield held;
}

/** A content store that counts the bytes of blobs it newly writes, for `progress.bytesStored`. */
export class CountingContentStore extends ContentStore {
  written = 0;
  override async put(...args: Parameters<ContentStore['put']>): ReturnType<ContentStore['put']> {
    const result = await super.put(...args);
    if (result.created) this.written += result.storedSize;
    return result;
  }

  override async putStream(...args: Parameters<ContentStore['putStream']>): ReturnType<ContentStore['putStream']> {
    const result = await super.putStream(...args);
    if (result.created) this.written += result.storedSize;
    return result;
  }
}
