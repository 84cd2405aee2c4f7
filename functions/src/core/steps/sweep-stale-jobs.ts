/**
 * The stale-job sweeper (an `onSchedule` function on Firebase). Cloud Tasks retries a step whose
 * worker dies, and `runStep` fails the job on a step's last attempt, so a job only goes stale when
 * work was lost outside both: an enqueue that never happened after its transaction committed, a
 * trigger that did not fire, or a last attempt whose failure could not be recorded. The sweeper
 * re-enqueues the work such a job still has, and fails it once it has been idle too long
 * (docs/invariants.md, "Job states": a job must never stay `running` after its work stopped).
 *
 * Idempotent: re-enqueued task ids derive from the job, its chunks and the sweep window, and
 * every step they start is itself idempotent; the failure re-reads the job in a transaction and
 * acts only if it is still idle.
 */
import type { EngineDeps } from '../deps';
import type { BackupJob, JobStatus } from '../model';
import { transition } from '../state-machine';
import { finalizeTaskId, kickoffTaskId, processChunkTaskId } from '../task-ids';
import { chunksAwaitingProcessing } from './awaiting-processing';
import { readyToFinalize } from './maybe-finalize';

/** Statuses whose progress depends on queued work; a paused job is waiting on purpose. */
export const SWEPT_STATUSES = ['queued', 'running'] as const satisfies readonly JobStatus[];

/** What a runtime answers: ids of jobs in one of `statuses` last updated before `updatedBefore`. */
export interface StaleJobQuery {
  statuses: readonly JobStatus[];
  updatedBefore: number;
  /** At most this many ids, oldest `updatedAt` first. */
  limit: number;
}

/** The one cross-user query the sweeper needs; each runtime answers it from its own store. */
export type StaleJobFinder = (query: StaleJobQuery) => Promise<string[]>;

export interface SweepOptions {
  /** Idle time after which a job's outstanding work is enqueued again. @default 30 minutes */
  staleAfterMs?: number;
  /** Idle time after which the job is failed with `deadline-exceeded`. @default 24 hours */
  abandonAfterMs?: number;
  /** Jobs handled per sweep; the next sweep takes the rest. @default 100 */
  limit?: number;
}

export const DEFAULT_STALE_AFTER_MS = 30 * 60_000;
export const DEFAULT_ABANDON_AFTER_MS = 24 * 3_600_000;

export type SweepAction = 'none' | 'kickoff' | 'requeue' | 'fail';

/**
 * What to do with one job. Pure. The stale bound must exceed the retry ladder plus a step's
 * dispatch deadline (about 30 minutes in all): a step being retried records each failure on the
 * job, which keeps it fresh.
 */
export function planSweep(job: BackupJob, now: number, staleAfterMs: number, abandonAfterMs: number): SweepAction {
  if (!(SWEPT_STATUSES as readonly JobStatus[]).includes(job.status)) return 'none';
  const idle = now - job.updatedAt;
  if (idle >= abandonAfterMs) return 'fail';
  if (idle < staleAfterMs) return 'none';
  return job.status === 'queued' ? 'kickoff' : 'requeue';
}

export interface SweepResult {
  kicked: string[];
  requeued: Array<{ jobId: string; chunks: number; finalize: boolean }>;
  failed: string[];
}

/** Runs one sweep over the stalest jobs the finder returns. */
export async function sweepStaleJobs(deps: EngineDeps, find: StaleJobFinder, options: SweepOptions = {}): Promise<SweepResult> {
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const abandonAfterMs = Math.max(options.abandonAfterMs ?? DEFAULT_ABANDON_AFTER_MS, staleAfterMs);
  const now = deps.clock.now();
  // Task ids carry the sweep window, so two sweeps racing in one window enqueue the work once,
  // and the next window can enqueue it again if it was lost once more.
  const window = Math.floor(now / staleAfterMs);
  const result: SweepResult = { kicked: [], requeued: [], failed: [] };
  const ids = await find({ statuses: SWEPT_STATUSES, updatedBefore: now - staleAfterMs, limit: options.limit ?? 100 });
  for (const jobId of ids) {
    const job = await deps.store.getJob(jobId);
    if (!job) continue;
    const action = planSweep(job, now, staleAfterMs, abandonAfterMs);
    if (action === 'kickoff') {
      await deps.queue.enqueue('kickoff', { jobId }, { id: `${kickoffTaskId(jobId, job.attempts)}_sweep_${window}` });
      result.kicked.push(jobId);
    } else if (action === 'requeue') {
      result.requeued.push(await requeue(deps, job, window));
    } else if (action === 'fail' && (await failIdle(deps, jobId, now, abandonAfterMs))) {
      result.failed.push(jobId);
    }
  }
  if (ids.length > 0) deps.logger.info('stale-job sweep', { ...result });
  return result;
}

/** Enqueues processing of every chunk whose bytes arrived, and finalize when the job is ready for it. */
async function requeue(deps: EngineDeps, job: BackupJob, window: number): Promise<{ jobId: string; chunks: number; finalize: boolean }> {
  let chunks = 0;
  // A chunk whose bytes arrived but whose processing was lost (the upload event or its enqueue
  // went missing, a worker died) is processed again.
  for await (const chunk of chunksAwaitingProcessing(deps, job)) {
    const id = `${processChunkTaskId(job.id, chunk.id, job.attempts)}_sweep_${window}`;
    await deps.queue.enqueue('processChunk', { jobId: job.id, chunkId: chunk.id }, { id });
    chunks++;
  }
  const finalize = await readyToFinalize(deps, job);
  if (finalize) {
    await deps.queue.enqueue('finalize', { jobId: job.id }, { id: `${finalizeTaskId(job.id, job.attempts)}_sweep_${window}` });
  }
  return { jobId: job.id, chunks, finalize };
}

async function failIdle(deps: EngineDeps, jobId: string, now: number, abandonAfterMs: number): Promise<boolean> {
  return deps.store.runTransaction(async (tx) => {
    const job = await tx.getJob(jobId);
    // Re-checked inside the transaction: a step may have moved the job since it was read.
    if (!job || planSweep(job, now, abandonAfterMs, abandonAfterMs) !== 'fail') return false;
    const hours = Math.round((now - job.updatedAt) / 360_000) / 10;
    const lastError = {
      code: 'deadline-exceeded',
      message: `no progress for ${hours} h: the job's work was lost (a worker or trigger died) and the sweeper gave up`,
      step: 'sweeper',
      at: now,
      retrying: false,
    };
    tx.setJob(transition(job, 'failed', now, { lastError }));
    return true;
  });
}
