/**
 * Chunk-index entries a backup may rely on (docs/invariants.md, "Dedup"): read through the GC
 * fence, and only those whose result blob is still stored. Issue 14: one lost result (damage, a
 * restore of the bucket from an older copy, a hand-deleted file) made every later backup of that
 * chunk fail, because registration took the chunk as stored and finalize, or a recipe copying
 * from it, found nothing. Now such an entry is dropped and the chunk is taken as unknown: the
 * device sends it again (registration answers `missing`), a recipe referring to it is
 * `unresolved` (the device sends its records whole), and processing writes the result and a fresh
 * entry. The backup heals the store instead of failing on it.
 */
import type { BlobStore, CallOptions, Clock, JobStore, Logger } from '../../ports';
import { blobKey } from '../keys';
import type { ChunkIndexEntry } from '../model';
import { reuseChunkIndex } from '../snapshots/gc-lease';

/** Result blobs looked up at once: a registration call names at most a few hundred chunks. */
const STAT_CONCURRENCY = 16;
/** Keys per `deleteChunkIndex` call (the port's limit). */
const DELETE_BATCH = 500;

/** Maps `fn` over `items` with at most `limit` calls in flight; results in input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * The entries under `keys` (null where absent), each checked to name a result blob that exists;
 * an entry whose result is gone comes back null and is deleted from the index, so the chunk is
 * processed again and its fresh entry written (`putChunkIndex` is create-if-absent: a stale entry
 * left in place would keep naming the lost result). Costs one existence check (a Cloud Storage
 * metadata read) per entry found.
 *
 * Call it only once the job is active: it goes through {@link reuseChunkIndex}, whose GC fence
 * needs that order.
 *
 * @throws LifeboatError `unavailable` (retryable) while a GC run (or a `check --repair`) of the
 *   user holds a live lease.
 */
export async function usableChunkIndex(
  deps: { store: JobStore; blobs: BlobStore; clock: Clock; logger?: Logger },
  uid: string,
  keys: readonly string[],
  options: CallOptions = {},
): Promise<(ChunkIndexEntry | null)[]> {
  const entries = await reuseChunkIndex(deps, uid, keys, options);
  const stored = await mapLimit(entries, STAT_CONCURRENCY, async (entry) => (entry ? deps.blobs.exists(blobKey(uid, entry.resultRef), options) : false));
  const lost = entries.flatMap((entry, i) => (entry && !stored[i] ? [entry] : []));
  if (lost.length > 0) {
    deps.logger?.warn('chunk-index entries name results that are gone: dropped, the chunks are sent again', {
      uid,
      entries: lost.length,
      first: lost[0]?.key,
    });
    for (let i = 0; i < lost.length; i += DELETE_BATCH) await deps.store.deleteChunkIndex(uid, lost.slice(i, i + DELETE_BATCH).map((e) => e.key), options);
  }
  return entries.map((entry, i) => (entry && stored[i] ? entry : null));
}
