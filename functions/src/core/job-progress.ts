/**
 * A job's progress (docs/invariants.md, "Progress counters"). Per-chunk steps write only their
 * chunk's record; the job document's `progress` is derived from what registration recorded
 * (`BackupJob.registered`) and sums over the job's chunk records (`JobStore.chunkTotals`), and
 * rolled up onto the job at most once per {@link PROGRESS_ROLLUP_MS}: however fast chunks arrive,
 * the job document takes about one write a second or less, and no step reads it per chunk in a
 * transaction.
 */
import type { ChunkTotals } from '../ports';
import type { EngineDeps } from './deps';
import { emptyProgress, type BackupJob, type JobProgress, type JobRegistration } from './model';
import { isActive } from './state-machine';

/** Least time between two roll-ups of a job's progress onto its document. */
export const PROGRESS_ROLLUP_MS = 2000;

export function emptyRegistration(): JobRegistration {
  return { chunks: 0, items: 0, bytes: 0, known: { chunks: 0, items: 0, skipped: 0, bytes: 0 }, knownByType: {} };
}

/**
 * What registration recorded. A job registered before `registered` existed has a record for
 * every chunk (known ones too), so its totals are its progress's and nothing was "known".
 */
export function registrationOf(job: BackupJob): JobRegistration {
  return job.registered ?? { chunks: job.progress.totalChunks, items: job.progress.totalItems, bytes: job.progress.bytesTotal, known: { chunks: 0, items: 0, skipped: 0, bytes: 0 }, knownByType: {} };
}

/**
 * Progress from registration and the chunk records' sums. `byType` counts the known chunks while
 * the job runs (records are summed by state, not type); finalize writes the exact figures.
 * `extraStoredBytes` is what finalize stored beyond the chunks (the manifest).
 */
export function computeProgress(job: BackupJob, totals: ChunkTotals, extraStoredBytes = 0): JobProgress {
  const r = registrationOf(job);
  const { processed, uploaded } = totals;
  return {
    ...emptyProgress(),
    totalChunks: r.chunks,
    totalItems: r.items,
    bytesTotal: r.bytes,
    uploadedChunks: r.known.chunks + uploaded.chunks + processed.chunks,
    processedChunks: r.known.chunks + processed.chunks,
    processedItems: r.known.items + processed.processedItems,
    skippedItems: r.known.skipped + processed.skippedItems,
    bytesUploaded: uploaded.bytes + processed.bytes,
    bytesDeduplicated: r.known.bytes,
    bytesStored: processed.storedBytes + extraStoredBytes,
    byType: structuredClone(r.knownByType),
  };
}

/** Chunks registered but not processed yet: finalize waits for none. */
export function unprocessedChunks(totals: ChunkTotals): number {
  return totals.pending.chunks + totals.uploaded.chunks + totals.failed.chunks;
}

/**
 * Writes the job's derived progress when its last roll-up is older than {@link PROGRESS_ROLLUP_MS}
 * (re-checked in the transaction, so racing steps write it once). Also the job's heartbeat.
 */
export async function rollUpProgress(deps: Pick<EngineDeps, 'store' | 'clock'>, jobId: string, totals: ChunkTotals): Promise<void> {
  const due = (job: BackupJob | null, now: number): job is BackupJob =>
    job !== null && isActive(job.status) && (job.progressAt === undefined || now - job.progressAt >= PROGRESS_ROLLUP_MS);
  const now = deps.clock.now();
  if (!due(await deps.store.getJob(jobId), now)) return;
  await deps.store.runTransaction(async (tx) => {
    const job = await tx.getJob(jobId);
    if (!due(job, now)) return;
    tx.setJob({ ...job, progress: computeProgress(job, totals), progressAt: now, updatedAt: now, heartbeatAt: now });
  });
}
