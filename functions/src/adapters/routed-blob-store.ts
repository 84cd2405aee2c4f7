/**
 * One BlobStore over two: keys under `prefix` live in `routed`, every other key in `main`. On
 * Firebase, raw device uploads (`uploads/`) go to a bucket of their own, so the storage trigger
 * fires once per upload and never for the blobs Lifeboat writes (Cloud Storage triggers cannot
 * filter by prefix), while the engine keeps one key space (core/keys.ts) and reads an upload the
 * way it reads any blob.
 */
import { lifeboatError } from '../core/errors';
import type { BlobInfo, BlobStore, CallOptions, GetOptions, PutOptions, PutResult } from '../ports';

/** Merges two key-ordered listings into one, in lexicographic (UTF-16 code unit) order. */
async function* mergeListings(a: AsyncIterable<BlobInfo>, b: AsyncIterable<BlobInfo>): AsyncIterable<BlobInfo> {
  const left = a[Symbol.asyncIterator]();
  const right = b[Symbol.asyncIterator]();
  let x = await left.next();
  let y = await right.next();
  while (!x.done || !y.done) {
    if (y.done || (!x.done && x.value.key <= y.value.key)) {
      yield (x as IteratorYieldResult<BlobInfo>).value;
      x = await left.next();
    } else {
      yield y.value;
      y = await right.next();
    }
  }
}

export class RoutedBlobStore implements BlobStore {
  /**
   * @param main the store of every key outside `prefix`.
   * @param prefix a folder prefix ending in `/` (`uploads/`).
   * @param routed the store of the keys under `prefix`.
   * @throws LifeboatError `invalid-argument` for a prefix that is not a folder.
   */
  constructor(
    private readonly main: BlobStore,
    private readonly prefix: string,
    private readonly routed: BlobStore,
  ) {
    if (!/^[A-Za-z0-9._-]+\/$/.test(prefix) || prefix === './' || prefix === '../') throw lifeboatError('invalid-argument', `routed prefix ${JSON.stringify(prefix)} must be one folder ending in /`);
  }

  private storeOf(key: string): BlobStore {
    return key.startsWith(this.prefix) ? this.routed : this.main;
  }

  put(key: string, body: Uint8Array | AsyncIterable<Uint8Array>, options?: PutOptions): Promise<PutResult> {
    return this.storeOf(key).put(key, body, options);
  }

  get(key: string, options?: GetOptions): Promise<AsyncIterable<Uint8Array>> {
    return this.storeOf(key).get(key, options);
  }

  stat(key: string, options?: CallOptions): Promise<BlobInfo | null> {
    return this.storeOf(key).stat(key, options);
  }

  exists(key: string, options?: CallOptions): Promise<boolean> {
    return this.storeOf(key).exists(key, options);
  }

  delete(key: string, options?: CallOptions): Promise<void> {
    return this.storeOf(key).delete(key, options);
  }

  /** A prefix inside the routed folder lists the routed store, one outside it `main`, one above it (`''`, `u`) both, merged. */
  list(prefix: string, options?: CallOptions): AsyncIterable<BlobInfo> {
    if (prefix.startsWith(this.prefix)) return this.routed.list(prefix, options);
    if (!this.prefix.startsWith(prefix)) return this.main.list(prefix, options);
    return mergeListings(this.only(this.main.list(prefix, options), false), this.only(this.routed.list(prefix, options), true));
  }

  /**
   * A store's keys on its own side of the route: with both stores on one bucket, each key is
   * listed once.
   */
  private async *only(listing: AsyncIterable<BlobInfo>, routed: boolean): AsyncIterable<BlobInfo> {
    for await (const info of listing) if (info.key.startsWith(this.prefix) === routed) yield info;
  }
}
