/**
 * Content-addressed blobs in a user's namespace (see docs/invariants.md, "Blobs"). A blob is named
 * by the SHA-256 of its plaintext, written create-if-absent and checked against its name on every
 * read.
 */
import type { BlobStore, CallOptions, KeyRing } from '../ports';
import { readAll } from '../ports/blob-store';
import { decodeBlob, encodeBlob, isEncryptedBlob } from './blob-codec';
import { hasCode, lifeboatError, wrapError } from './errors';
import { sha256Hex } from './hash';
import { blobKey } from './keys';

export interface PutContentOptions extends CallOptions {
  /** @default true */
  compress?: boolean;
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

export class ContentStore {
  /**
   * @param keyRing encrypts new blobs with the user's data key and decrypts encrypted ones.
   * @default none: blobs are stored in the clear (blobs written encrypted still need a key ring)
   */
  constructor(
    private readonly blobs: BlobStore,
    private readonly keyRing?: KeyRing,
  ) {}

  async put(uid: string, plaintext: Uint8Array, options: PutContentOptions = {}): Promise<PutContentResult> {
    const hash = sha256Hex(plaintext);
    const key = blobKey(uid, hash);
    const signalOpt = options.signal ? { signal: options.signal } : {};
    // Looking first skips the encode for content the user already has (the common case on a
    // repeated backup); the create-if-absent put below still settles any race.
    const existing = await this.blobs.stat(key, signalOpt);
    if (existing) return { hash, size: plaintext.byteLength, storedSize: existing.size, created: false };
    const dataKey = this.keyRing ? await this.keyRing.dataKey(uid, signalOpt) : undefined;
    const stored = encodeBlob(plaintext, { compress: options.compress ?? true, ...(dataKey ? { key: dataKey } : {}) });
    const result = await this.blobs.put(key, stored, { ...signalOpt, ifAbsent: true });
    return { hash, size: plaintext.byteLength, storedSize: result.size, created: result.created };
  }

  /** Returns the plaintext; `not-found` when absent, `data-loss` when the bytes do not match. */
  async get(uid: string, hash: string, options: CallOptions = {}): Promise<Uint8Array> {
    const key = blobKey(uid, hash);
    let stored: Uint8Array;
    try {
      stored = await readAll(await this.blobs.get(key, options));
    } catch (err) {
      if (hasCode(err, 'not-found')) throw lifeboatError('not-found', `blob ${hash} is missing [uid=${uid}]`, { retryable: false });
      throw wrapError(err, 'blob read failed', { uid, blob: hash });
    }
    const dataKey = isEncryptedBlob(stored) && this.keyRing ? await this.keyRing.dataKey(uid, options) : undefined;
    const plaintext = decodeBlob(stored, dataKey ? { key: dataKey } : {});
    if (sha256Hex(plaintext) !== hash) {
      throw lifeboatError('data-loss', `blob ${hash} does not match its hash [uid=${uid}]`);
    }
    return plaintext;
  }

  async has(uid: string, hash: string, options: CallOptions = {}): Promise<boolean> {
    return this.blobs.exists(blobKey(uid, hash), options);
  }
}

/** A content store that counts the bytes of blobs it newly writes, for `progress.bytesStored`. */
export class CountingContentStore extends ContentStore {
  written = 0;
  override async put(...args: Parameters<ContentStore['put']>): ReturnType<ContentStore['put']> {
    const result = await super.put(...args);
    if (result.created) this.written += result.storedSize;
    return result;
  }
}
