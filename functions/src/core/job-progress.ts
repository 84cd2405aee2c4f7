/**
 * A job's progress (docs/invariants.md, "Progress counters"). No step writes counters on the job:
 * registration writes chunk records (chunks the server lacks) and batches (known chunks, with
 * their totals), processing writes the chunk's record, and `progress` is derived from the
 * records' sums (`JobStore.chunkTotals`) and the batches' (`JobStore.knownTotals`). It is rolled
 * up onto the job document at most once per {@link PROGRESS_ROLLUP_MS}, so however fast chunks
 * arrive or registration calls come, the job document takes well under one write a second, and no
 * step reads it per chunk in a transaction.
 */
import type { ChunkTotals, JobStore, KnownTotals } from '../ports';
import type { EngineDeps } from './deps';
import { emptyProgress, type BackupJob, type JobProgress } from './model';
import { isActive } from './state-machine';

/** Least time between two roll-ups of a job's progress onto its document. */
export const PROGRESS_ROLLUP_MS = 5000;

/** What progress is derived from. */
export interface ProgressSums {
  chunks: ChunkTotals;
  known: KnownTotals;
}

export async function progressSums(store: Pick<JobStore, 'chunkTotals' | 'knownTotals'>, jobId: string): Promise<ProgressSums> {
  const [chunks, known] = await Promise.all([store.chunkTotals(jobId), store.knownTotals(jobId)]);
  return { chunks, known };
}

/**
 * Progress from the sums. A job created before progress was derived (no `progressFrom`) counted
 * its registration on the job and has a record for every chunk, known ones too. `byType` is left
 * as the job has it while it runs (records are summed by state, not type); finalize writes the
 * exact figures.
 */
export function computeProgress(job: BackupJob, sums: ProgressSums): JobProgress {
  const { processed, uploaded } = sums.chunks;
  const derived = job.progressFrom === 'records';
  const known = derived ? sums.known : { chunks: 0, items: 0, skipped: 0, bytes: 0 };
  const records = Object.values(sums.chunks).reduce((t, s) => ({ chunks: t.chunks + s.chunks, items: t.items + s.items, bytes: t.bytes + s.bytes }), { chunks: 0, items: 0, bytes: 0 });
  return {
    ...emptyProgress(),
    totalChunks: derived ? known.chunks + records.chunks : job.progress.totalChunks,
    totalItems: derived ? known.items + records.items : job.progress.totalItems,
    bytesTotal: derived ? known.bytes + records.bytes : job.progress.bytesTotal,
    uploadedChunks: known.chunks + uploaded.chunks + processed.chunks,
    processedChunks: known.chunks + processed.chunks,
    processedItems: known.items + processed.processedItems,
    skippedItems: known.skipped + processed.skippedItems,
    bytesUploaded: uploaded.bytes + processed.bytes,
    bytesDeduplicated: known.bytes,
    bytesStored: processed.storedBytes,
    byType: structuredClone(job.progress.byType),
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
export async function rollUpProgress(deps: Pick<EngineDeps, 'store' | 'clock'>, jobId: string, chunks?: ChunkTotals): Promise<void> {
  const due = (job: BackupJob | null, now: number): job is BackupJob =>
    job !== null && isActive(job.status) && (job.progressAt === undefined || now - job.progressAt >= PROGRESS_ROLLUP_MS);
  const now = deps.clock.now();
  if (!due(await deps.store.getJob(jobId), now)) return;
  const sums = { chunks: chunks ?? (await deps.store.chunkTotals(jobId)), known: await deps.store.knownTotals(jobId) };
  await deps.store.runTransaction(async (tx) => {
    const job = await tx.getJob(jobId);
    if (!due(job, now)) return;
    tx.setJob({ ...job, progress: computeProgress(job, sums), progressAt: now, updatedAt: now, heartbeatAt: now });
  });
}
