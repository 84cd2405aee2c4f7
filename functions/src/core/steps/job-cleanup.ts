/**
 * What a job leaves behind once it completed or was cancelled: its raw uploads and its
 * registration state (chunk records, batches). Neither is needed any more (a snapshot names its
 * segments itself; a cancelled job keeps the progress it was cancelled with), and losing them
 * costs only space, so cleanup never fails the caller.
 *
 * The amount grows with the job (one raw upload per uploaded chunk, one request each to delete
 * on Cloud Storage), so neither finalize nor the `cancelBackup` callable waits for all of it:
 * each works for a bounded time and a `maintenance` task named by the job and its round carries
 * on from where it stopped, again for a bounded time. Every step is a delete of something that
 * may already be gone, so a round run twice, or two rounds at once, do no harm.
 */
import type { EngineDeps } from '../deps';
import { messageOf } from '../errors';
import { uploadPrefix } from '../keys';

/** Deletes of raw uploads in flight at once (each is one Cloud Storage request). */
const DELETE_PARALLEL = 16;
/** Chunk records and batches deleted per store call. */
const RECORD_PAGE = 500;

/** How long a caller that is not a cleanup task works on cleanup before handing it to one. */
export const INLINE_CLEANUP_MS = 10_000;

export interface CleanupResult {
  deletedUploads: number;
  deletedRecords: number;
  /** False when time ran out first (the rest is for the next round). */
  done: boolean;
}

/**
 * Deletes the job's raw uploads, then its registration state, until done or `stopAt` (epoch ms).
 * Raw uploads go first: they are the larger cost, and GC's sweep of finished jobs' uploads is
 * their backstop too.
 */
export async function cleanUpJob(deps: Pick<EngineDeps, 'blobs' | 'store' | 'clock'>, uid: string, jobId: string, stopAt: number, signal?: AbortSignal): Promise<CleanupResult> {
  const result: CleanupResult = { deletedUploads: 0, deletedRecords: 0, done: false };
  const outOfTime = () => deps.clock.now() >= stopAt || signal?.aborted === true;
  const inFlight = new Set<Promise<void>>();
  let failure: unknown = null;
  for await (const blob of deps.blobs.list(uploadPrefix(uid, jobId), signal ? { signal } : {})) {
    if (outOfTime() || failure) break;
    const deleting: Promise<void> = deps.blobs.delete(blob.key).then(
      () => void result.deletedUploads++,
      (err: unknown) => void (failure ??= err),
    );
    inFlight.add(deleting);
    void deleting.finally(() => inFlight.delete(deleting));
    if (inFlight.size >= DELETE_PARALLEL) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  if (failure) throw failure;
  if (outOfTime()) return result;
  for (;;) {
    const page = await deps.store.deleteJobChunks(jobId, RECORD_PAGE);
    result.deletedRecords += page.deleted;
    if (!page.more) break;
    if (outOfTime()) return result;
  }
  result.done = true;
  return result;
}

/**
 * Cleans up for at most {@link INLINE_CLEANUP_MS} and hands what is left to a `maintenance` task.
 * Never throws: what a failure leaves is the next round's, or GC's.
 */
export async function cleanUpJobSoon(deps: Pick<EngineDeps, 'blobs' | 'store' | 'clock' | 'queue' | 'logger'>, uid: string, jobId: string, why: string): Promise<void> {
  try {
    const result = await cleanUpJob(deps, uid, jobId, deps.clock.now() + INLINE_CLEANUP_MS);
    if (result.done) return;
  } catch (err) {
    deps.logger.warn(`cleanup after ${why} failed; a task retries it [job=${jobId}]: ${messageOf(err)}`);
  }
  await enqueueCleanupRound(deps, uid, jobId, 1);
}

/** Enqueues round `round` of a job's cleanup (task id from the job and the round: enqueued once). */
export async function enqueueCleanupRound(deps: Pick<EngineDeps, 'queue' | 'logger'>, uid: string, jobId: string, round: number): Promise<void> {
  try {
    await deps.queue.enqueue('maintenance', { kind: 'jobCleanup', uid, jobId, round }, { id: `cleanup_${jobId}_${round}` });
  } catch (err) {
    // Raw uploads are swept by GC for finished jobs; registration state left behind is space only.
    deps.logger.warn(`cleanup task not enqueued [job=${jobId}, round=${round}]: ${messageOf(err)}`);
  }
}
