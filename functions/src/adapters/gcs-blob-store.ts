/**
 * BlobStore on a Cloud Storage bucket: one object per key, named `{prefix}{key}`.
 *
 * - Create-if-absent is a precondition (`ifGenerationMatch: 0`): GCS creates the object only if
 *   none exists, atomically, so of racing puts exactly one wins. 412 means another put won, and
 *   is success (`created: false`): keys are content names, so the object holds the same content.
 *   An ifAbsent put first looks for the object, so deduplicated content is never sent again.
 * - Uploads are single requests (`resumable: false`): an upload that fails or is cancelled part
 *   way leaves no object, which is the port's atomicity rule.
 * - Every object gets the custom metadata `lifeboat-written: 'true'` (the storage trigger ignores
 *   those) and `lifeboat-sha256`, the SHA-256 of its bytes; a full read recomputes the hash and
 *   fails with `data-loss` on a mismatch (GCS also checks its CRC32C). A streamed body's hash is
 *   known only at its end, so it is added by a second request pinned to the written generation;
 *   an object read in between is read unchecked. Both names are hidden from `stat` and `list`.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Bucket, File, FileMetadata, GetFilesOptions } from '@google-cloud/storage';
import { lifeboatError } from '../core/errors';
import {
  assertBlobKey,
  assertBlobPrefix,
  resolveRange,
  throwIfAborted,
  type BlobInfo,
  type BlobStore,
  type CallOptions,
  type GetOptions,
  type PutOptions,
  type PutResult,
} from '../ports';
import { httpStatusOf, toLifeboatError } from './adapter-errors';
import { callerMetadata, checkCallerMetadata, checkObjectPrefix, LIFEBOAT_SHA256, LIFEBOAT_WRITTEN } from './gcs-objects';

const CONTENT_TYPE = 'application/octet-stream';
const LIST_PAGE_SIZE = 1000;

export interface GcsBlobStoreOptions {
  /** Folder of the bucket the objects live under, ending in `/` (e.g. `lifeboat/`). @default '' */
  prefix?: string;
}

/** The port's view of an object's metadata: the caller's metadata, the size and when it was written. */
export function blobInfo(key: string, metadata: FileMetadata): BlobInfo {
  const info: BlobInfo = { key, size: Number(metadata.size ?? 0), metadata: callerMetadata(metadata.metadata) };
  const createdAt = typeof metadata.timeCreated === 'string' ? Date.parse(metadata.timeCreated) : Number.NaN;
  if (Number.isFinite(createdAt)) info.createdAt = createdAt;
  return info;
}

/** Frees a body that will not be read: destroys a Node stream, ends any other iterator. */
async function release(body: AsyncIterable<Uint8Array>): Promise<void> {
  const destroy = (body as { destroy?: unknown }).destroy;
  if (typeof destroy === 'function') (destroy as () => void).call(body);
  else await body[Symbol.asyncIterator]().return?.();
}

function isValidKey(key: string): boolean {
  try {
    assertBlobKey(key);
    return true;
  } catch {
    return false;
  }
}

/** {@link BlobStore} on Cloud Storage; see the module comment. */
export class GcsBlobStore implements BlobStore {
  private readonly prefix: string;

  /**
   * @param bucket the bucket (`getStorage().bucket(name)` from firebase-admin/storage).
   * @param options.prefix folder of the bucket to keep objects under. @default ''
   */
  constructor(
    private readonly bucket: Bucket,
    options: GcsBlobStoreOptions = {},
  ) {
    this.prefix = checkObjectPrefix(options.prefix);
  }

  async put(key: string, body: Uint8Array | AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<PutResult> {
    const file = this.bucket.file(this.objectName(key));
    throwIfAborted(options.signal);
    const metadata = checkCallerMetadata(options.metadata);
    const ifAbsent = options.ifAbsent === true;
    if (ifAbsent) {
      const existing = await this.stat(key, options);
      if (existing) {
        // Nothing to send: release an unread stream body (a file, a socket) now rather than at GC.
        if (!(body instanceof Uint8Array)) await release(body);
        return { created: false, size: existing.size };
      }
    }
    try {
      return body instanceof Uint8Array
        ? await this.putBytes(file, body, metadata, ifAbsent)
        : await this.putStream(file, body, metadata, ifAbsent, options.signal);
    } catch (err) {
      if (ifAbsent && httpStatusOf(err) === 412) {
        // Another put created the object first: same key, same content, so this put is done.
        const existing = await this.stat(key);
        if (existing) return { created: false, size: existing.size };
        throw lifeboatError('aborted', `blob ${key} was created and deleted again during the put`, { cause: err });
      }
      throw toLifeboatError(err, `put blob ${key}`);
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<AsyncIterable<Uint8Array>> {
    const name = this.objectName(key);
    throwIfAborted(options.signal);
    const metadata = await this.call(`get blob ${key}`, async () => (await this.bucket.file(name).getMetadata())[0]);
    const size = Number(metadata.size ?? 0);
    const { start, end } = resolveRange(options, size);
    if (start === end) return Readable.from([]);
    const whole = start === 0 && end === size;
    const expected = whole ? metadata.metadata?.[LIFEBOAT_SHA256] : undefined;
    // Pinned to the generation whose metadata was read, so the hash belongs to these bytes.
    const file = this.bucket.file(name, metadata.generation === undefined ? {} : { generation: metadata.generation });
    const read = () => file.createReadStream(whole ? { decompress: false } : { start, end: end - 1, decompress: false });
    return this.readBody(read, key, typeof expected === 'string' ? expected : undefined, options.signal);
  }

  async stat(key: string, options: CallOptions = {}): Promise<BlobInfo | null> {
    const file = this.bucket.file(this.objectName(key));
    throwIfAborted(options.signal);
    try {
      const [metadata] = await file.getMetadata();
      return blobInfo(key, metadata);
    } catch (err) {
      if (httpStatusOf(err) === 404) return null;
      throw toLifeboatError(err, `stat blob ${key}`);
    }
  }

  async exists(key: string, options: CallOptions = {}): Promise<boolean> {
    return (await this.stat(key, options)) !== null;
  }

  async delete(key: string, options: CallOptions = {}): Promise<void> {
    const file = this.bucket.file(this.objectName(key));
    throwIfAborted(options.signal);
    try {
      await file.delete();
    } catch (err) {
      // Deleting is idempotent: a missing object is already deleted.
      if (httpStatusOf(err) === 404) return;
      throw toLifeboatError(err, `delete blob ${key}`);
    }
  }

  async *list(prefix: string, options: CallOptions = {}): AsyncIterable<BlobInfo> {
    assertBlobPrefix(prefix);
    let query: GetFilesOptions | undefined = { prefix: `${this.prefix}${prefix}`, autoPaginate: false, maxResults: LIST_PAGE_SIZE };
    while (query) {
      throwIfAborted(options.signal);
      const current: GetFilesOptions = query;
      const [files, next] = await this.call(`list blobs under ${prefix}`, () => this.bucket.getFiles(current));
      for (const file of files) {
        const key = file.name.slice(this.prefix.length);
        // Objects another tool put in the bucket (e.g. console "folders") are not blobs.
        if (isValidKey(key)) yield blobInfo(key, file.metadata);
      }
      const pageToken = (next as GetFilesOptions | null | undefined)?.pageToken;
      query = pageToken ? { ...current, pageToken } : undefined;
    }
  }

  private objectName(key: string): string {
    assertBlobKey(key);
    return `${this.prefix}${key}`;
  }

  private async putBytes(file: File, body: Uint8Array, metadata: Record<string, string>, ifAbsent: boolean): Promise<PutResult> {
    const sha256 = createHash('sha256').update(body).digest('hex');
    await file.save(Buffer.from(body.buffer, body.byteOffset, body.byteLength), {
      resumable: false,
      metadata: { contentType: CONTENT_TYPE, metadata: { ...metadata, [LIFEBOAT_WRITTEN]: 'true', [LIFEBOAT_SHA256]: sha256 } },
      ...(ifAbsent ? { preconditionOpts: { ifGenerationMatch: 0 } } : {}),
    });
    return { created: true, size: body.byteLength };
  }

  private async putStream(
    file: File,
    body: AsyncIterable<Uint8Array>,
    metadata: Record<string, string>,
    ifAbsent: boolean,
    signal: AbortSignal | undefined,
  ): Promise<PutResult> {
    const hash = createHash('sha256');
    let size = 0;
    let sourceFailure: { error: unknown } | undefined;
    async function* feed(): AsyncGenerator<Uint8Array> {
      try {
        for await (const piece of body) {
          throwIfAborted(signal);
          if (!(piece instanceof Uint8Array)) throw lifeboatError('invalid-argument', 'body pieces must be Uint8Array');
          hash.update(piece);
          size += piece.byteLength;
          yield piece;
        }
      } catch (err) {
        sourceFailure = { error: err };
        throw err;
      }
    }
    const upload = file.createWriteStream({
      resumable: false,
      metadata: { contentType: CONTENT_TYPE, metadata: { ...metadata, [LIFEBOAT_WRITTEN]: 'true' } },
      ...(ifAbsent ? { preconditionOpts: { ifGenerationMatch: 0 } } : {}),
    });
    try {
      await pipeline(Readable.from(feed(), { objectMode: false }), upload);
    } catch (err) {
      // The body's own failure (or the cancellation) is the cause; the aborted upload only follows it.
      if (sourceFailure) throw sourceFailure.error;
      throw err;
    }
    const generation = file.metadata.generation;
    try {
      await file.setMetadata(
        { metadata: { [LIFEBOAT_SHA256]: hash.digest('hex') } },
        generation === undefined ? {} : { ifGenerationMatch: generation },
      );
    } catch (err) {
      // 412/404: a later put replaced or deleted the object; its own metadata stands.
      const status = httpStatusOf(err);
      if (status !== 412 && status !== 404) throw err;
    }
    return { created: true, size };
  }

  private readBody(
    open: () => Readable,
    key: string,
    expectedSha256: string | undefined,
    signal: AbortSignal | undefined,
  ): AsyncIterable<Uint8Array> {
    const what = `read blob ${key}`;
    async function* body(): AsyncGenerator<Uint8Array> {
      const hash = expectedSha256 === undefined ? undefined : createHash('sha256');
      const stream = open();
      try {
        for await (const piece of stream) {
          throwIfAborted(signal);
          hash?.update(piece as Uint8Array);
          yield piece as Uint8Array;
        }
      } catch (err) {
        // The generation read is gone: the object was replaced or deleted since its metadata was
        // read. A retry reads the current one, or finds it missing and says so.
        if (httpStatusOf(err) === 404) {
          throw lifeboatError('aborted', `blob ${key} changed while it was read`, { retryable: true, cause: err });
        }
        throw toLifeboatError(err, what);
      } finally {
        stream.destroy();
      }
      if (hash && hash.digest('hex') !== expectedSha256) {
        throw lifeboatError('data-loss', `blob ${key} does not match the SHA-256 stored with it`);
      }
    }
    return body();
  }

  private async call<T>(what: string, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      throw toLifeboatError(err, what);
    }
  }
}
