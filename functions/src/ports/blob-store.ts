import type { CallOptions } from './common';

export interface PutOptions extends CallOptions {
  /**
   * Create-if-absent: when an object already exists under the key, leave it untouched and resolve
   * with `created: false` (GCS `ifGenerationMatch: 0`, where 412 means the same).
   */
  ifAbsent?: boolean;
  /** Small string metadata stored with the object (GCS custom metadata). */
  metadata?: Record<string, string>;
}

export interface PutResult {
  /** False when `ifAbsent` was set and the object already existed. */
  created: boolean;
  /** Bytes stored under the key (the existing object's size when not created). */
  size: number;
}

export interface BlobInfo {
  key: string;
  size: number;
  metadata: Record<string, string>;
  /**
   * When the object was written, epoch milliseconds (GCS `timeCreated`, the file's mtime in the
   * folder store). Garbage collection sweeps only blobs older than its grace period and treats a
   * blob without a time as new, so a store that omits it is safe, it just frees nothing.
   */
  createdAt?: number;
}

export interface GetOptions extends CallOptions {
  /**
   * First byte to read, inclusive. A start past the object rejects with `out-of-range`; a start
   * equal to its size reads nothing. @default 0
   */
  start?: number;
  /**
   * Last byte to read, exclusive; an end past the object is clamped to its size (as Cloud Storage
   * does), one before `start` is `invalid-argument`. @default the object's size
   */
  end?: number;
}

/**
 * Bytes under string keys, in the shape of a Cloud Storage bucket. Keys are `/`-separated paths of
 * `[A-Za-z0-9._-]` segments (1 to 255 characters, at most 1024 in all) with no leading slash and no
 * empty, `.` or `..` segment; anything else is refused with `invalid-argument`. `assertBlobKey` and
 * `resolveRange` in `blob-keys.ts` implement these rules for every store.
 *
 * Contract:
 * - `put` is atomic: a reader sees the whole object or none of it, never a prefix, even if the
 *   writer dies mid-way.
 * - `get` of a missing key rejects with `not-found`.
 * - `delete` of a missing key resolves (deleting is idempotent).
 * - `list` yields every key under a prefix exactly once, in lexicographic order. The prefix is a
 *   plain string, not a folder, as on Cloud Storage: `list('p')` yields `p/x` and also `pq/x`;
 *   pass `'p/'` for the keys under `p` alone.
 * - A key cannot be both an object and a folder prefix of other keys (`a` and `a/b`) in the local
 *   folder store, which refuses such a put with `failed-precondition`. Cloud Storage allows it, so
 *   keys the engine uses must never nest under another key.
 */
export interface BlobStore {
  put(key: string, body: Uint8Array | AsyncIterable<Uint8Array>, options?: PutOptions): Promise<PutResult>;
  get(key: string, options?: GetOptions): Promise<AsyncIterable<Uint8Array>>;
  stat(key: string, options?: CallOptions): Promise<BlobInfo | null>;
  exists(key: string, options?: CallOptions): Promise<boolean>;
  delete(key: string, options?: CallOptions): Promise<void>;
  list(prefix: string, options?: CallOptions): AsyncIterable<BlobInfo>;
}

export interface ReadAllOptions {
  /**
   * The bytes expected: the buffer is allocated once at this size and filled in place, instead
   * of collecting the pieces and copying them (which holds the object twice). A source that
   * turns out longer or shorter still reads correctly. @default unknown
   */
  size?: number;
}

/** Reads a whole object into memory: only for objects known to be small (chunks, manifests). */
export async function readAll(source: AsyncIterable<Uint8Array>, options: ReadAllOptions = {}): Promise<Uint8Array> {
  if (options.size !== undefined && Number.isSafeInteger(options.size) && options.size >= 0) return readSized(source, options.size);
  const parts: Uint8Array[] = [];
  let length = 0;
  for await (const part of source) {
    parts.push(part);
    length += part.byteLength;
  }
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

async function readSized(source: AsyncIterable<Uint8Array>, size: number): Promise<Uint8Array> {
  const out = new Uint8Array(size);
  let offset = 0;
  const extra: Uint8Array[] = [];
  for await (const part of source) {
    const fits = Math.min(part.byteLength, size - offset);
    out.set(part.subarray(0, fits), offset);
    offset += fits;
    if (fits < part.byteLength) extra.push(part.subarray(fits));
  }
  if (extra.length > 0) return readAll((async function* () { yield out; yield* extra; })());
  return offset === size ? out : out.subarray(0, offset);
}
