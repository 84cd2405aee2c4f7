import { readAll } from '../../ports/blob-store';
import { CountingContentStore, type ContentStore } from '../content-store';
import type { EngineDeps } from '../deps';
import { lifeboatError } from '../errors';
import { sha256Hex } from '../hash';
import { chunkIndexKey } from '../keys';
import { chunkStrategyKey, isEndToEnd, opaqueChunkItem } from '../e2e-opaque';
import type { ChunkResult, ManifestItem } from '../model';
import { maybeFinalize } from './maybe-finalize';
import { uploadKeyOf } from './awaiting-processing';
import { rollUpProgress } from '../job-progress';
import { strategyExtras } from '../sources/strategy-extras';
import { assertNoGarbageCollection } from '../snapshots/gc-lease';
import { segmentStats } from '../snapshots/segment-stats';
import { RECIPE_TYPES, referencedItems, splitRefLines } from './chunk-refs';
import { orderChats } from '../sources/chat-order';

/**
 * Processes one uploaded chunk: checks its bytes against its name, runs the type's strategy
 * (which stores content blobs), stores the chunk's result (its manifest items) as a blob, then
 * marks the chunk processed (with its counts and its result's stats) in one transaction.
 *
 * Idempotent: blobs are content-addressed and created if absent, and the transaction moves the
 * chunk to `processed` only from `pending` or `uploaded`, so a second delivery (even a concurrent
 * one) changes nothing.
 */
export async function processChunk(deps: EngineDeps, jobId: string, chunkId: string): Promise<void> {
  const job = await deps.store.getJob(jobId);
  if (!job) throw lifeboatError('not-found', 'job does not exist', { retryable: false });
  // Work for a job that can no longer use it is dropped, not failed. A failed job's chunks wait
  // for retryBackup, whose kickoff enqueues them again: garbage collection relies on a failed
  // job's chunks not changing once it has been quiet for the grace period.
  if (job.status === 'cancelled' || job.status === 'completed' || job.status === 'failed') return;
  const [chunk] = await deps.store.runTransaction((tx) => tx.getChunks(jobId, [chunkId]));
  if (!chunk) throw lifeboatError('not-found', 'chunk is not registered', { retryable: false });
  if (chunk.state === 'processed') {
    await maybeFinalize(deps, jobId);
    return;
  }
  if (chunk.state !== 'uploaded' && chunk.state !== 'pending') {
    throw lifeboatError('failed-precondition', `chunk is ${chunk.state}, not uploaded`, { retryable: false });
  }
  const source = uploadKeyOf(job, chunk);
  // A pending chunk is processed once its bytes are there (the upload event writes nothing). A
  // task for one whose upload is not there yet has nothing to do: the device is still sending it.
  if (chunk.state === 'pending' && !(await deps.blobs.exists(source))) {
    deps.logger.warn('processing of a chunk whose bytes have not arrived skipped', { jobId, chunkId });
    return;
  }
  const strategy = deps.strategies[chunk.type];
  if (!strategy) throw lifeboatError('unimplemented', `no strategy for type ${chunk.type}`, { retryable: false });

  // The job is active here, so this check fences a GC run (docs/invariants.md, "Garbage
  // collection"): the strategy's content-addressed puts may reuse blobs the user already has.
  await assertNoGarbageCollection(deps, job.uid);
  // Read into one buffer of the registered size (at most 16 MiB): collecting the pieces before
  // copying them would hold the chunk twice.
  const bytes = await readAll(await deps.blobs.get(source), { size: chunk.size });
  if (bytes.byteLength !== chunk.size || sha256Hex(bytes) !== chunk.id) {
    throw lifeboatError('data-loss', `uploaded bytes do not match the chunk (size ${bytes.byteLength}/${chunk.size})`, {
      retryable: false,
    });
  }

  const content = new CountingContentStore(deps.blobs, deps.keyRing);
  const indexKey = (id: string) => chunkIndexKey(chunk.type, chunkStrategyKey(strategy, job.options), id);
  let items: ManifestItem[];
  if (isEndToEnd(job.options)) {
    items = await storeOpaque(content, job.uid, chunk.type, chunkId, bytes);
  } else {
    // A recipe chunk: the referenced records come from earlier results, the rest as usual.
    const { refs, rest } = RECIPE_TYPES.has(chunk.type) ? splitRefLines(bytes) : { refs: [], rest: bytes };
    const own = rest.byteLength > 0 || refs.length === 0
      ? await strategy.processChunk(rest, { uid: job.uid, jobId, options: job.options, content, ...strategyExtras(deps, job) })
      : [];
    // A record sent whole wins over a reference to it (the device never sends both).
    const itemKey = (i: ManifestItem) => `${i.type}\u0000${i.conversationId ?? ''}\u0000${i.sourceId}`;
    const sent = new Set(own.map(itemKey));
    items = [...own, ...(await referencedItems(deps, content, job.uid, refs, indexKey)).filter((i) => !sent.has(itemKey(i)))];
    // A recipe lists its own messages before the ones it copies: each conversation in time order
    // again, so a manifest read in order restores it in order (docs/invariants.md, "Verify and restore").
    if (chunk.type === 'chats' && refs.length > 0) items = await orderChats(content, job.uid, items);
  }
  // An opaque chunk is one manifest item, but the device's items are still all in it: progress
  // counts those, so processedItems meets totalItems as in any other job.
  const countedItems = isEndToEnd(job.options) ? chunk.items : items.length;
  const result: ChunkResult = { chunkId, type: chunk.type, items };
  const stored = await content.put(job.uid, new TextEncoder().encode(JSON.stringify(result)));
  const stats = segmentStats(items);
  const skipped = stats.skipped;

  const now = deps.clock.now();
  // Only the chunk's record is written: the job's progress is derived from the records and rolled
  // up at most every couple of seconds (core/job-progress.ts).
  await deps.store.runTransaction(async (tx) => {
    const [current] = await tx.getChunks(jobId, [chunkId]);
    if (!current || (current.state !== 'uploaded' && current.state !== 'pending')) return;
    tx.setChunk({
      ...current,
      state: 'processed',
      uploadKey: source,
      resultRef: stored.hash,
      processedItems: countedItems,
      skippedItems: skipped,
      storedBytes: content.written,
      error: null,
      updatedAt: now,
      stats,
    });
  });
  // Recorded after the chunk so an index entry never names a result that was not stored.
  await deps.store.putChunkIndex({
    uid: job.uid,
    key: indexKey(chunkId),
    resultRef: stored.hash,
    items: countedItems,
    skippedItems: skipped,
    createdAt: now,
    stats,
  });
  const totals = await deps.store.chunkTotals(jobId);
  await rollUpProgress(deps, jobId, totals);
  await maybeFinalize(deps, jobId, totals);
}

/**
 * An end-to-end encrypted chunk is stored as it came: no parsing, no compression (ciphertext does
 * not compress), no media processing. Its blob is named by the ciphertext's hash, the chunk id,
 * so verify still checks every byte the device sent.
 */
async function storeOpaque(content: ContentStore, uid: string, type: ChunkResult['type'], chunkId: string, bytes: Uint8Array): Promise<ManifestItem[]> {
  const put = await content.put(uid, bytes, { compress: false });
  return [opaqueChunkItem(type, chunkId, put.size, put.storedSize)];
}
