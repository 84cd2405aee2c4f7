/**
 * The stale-job sweeper (an `onSchedule` function on Firebase, a timer embedded). Cloud Tasks
 * retries a step whose worker dies, `runStep` fails the job on a step's last attempt, and a death
 * check fails it when that last attempt dies (death-check.ts), so a job only goes stale when work
 * was lost outside all three: an enqueue that never happened after its transaction committed
 * (a crash between a job's creation and its kickoff, say), a trigger that did not fire, or a
 * death check that could not be enqueued. The sweeper enqueues a queued job's kickoff again once
 * it waited `kickoffAfterMs`, re-enqueues the work a running job still has once it is idle
 * `staleAfterMs`, and fails a job idle too long (docs/invariants.md, "Job states": a job must
 * never stay `running` after its work stopped). {@link reconcileJobs} does the first two at once
 * for a runtime that restarts (embedded).
 *
 * Idempotent: re-enqueued task ids derive from the job and its chunks (plus the sweep window once
 * a job is stale, in case the first id was spent), and every step they start is itself
 * idempotent; the failure re-reads the job in a transaction and acts only if it is still idle.
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
  /**
   * Time a `queued` job may wait before its kickoff is enqueued again under its own id (a kickoff
   * that exists is not doubled: the queue deduplicates the id). @default 5 minutes
   */
  kickoffAfterMs?: number;
  /** Idle time after which a job's outstanding work is enqueued again. @default 30 minutes */
  staleAfterMs?: number;
  /** Idle time after which the job is failed with `deadline-exceeded`. @default 24 hours */
  abandonAfterMs?: number;
  /** Jobs handled per sweep; the next sweep takes the rest. @default 100 */
  limit?: number;
}

export const DEFAULT_KICKOFF_AFTER_MS = 5 * 60_000;
export const DEFAULT_STALE_AFTER_MS = 30 * 60_000;
export const DEFAULT_ABANDON_AFTER_MS = 24 * 3_600_000;

export type SweepAction = 'none' | 'kickoff' | 'requeue' | 'fail';

/**
 * What to do with one job. Pure. The stale bound must exceed the retry ladder plus a step's
 * dispatch deadline (about 30 minutes in all): a step being retried records each failure on the
 * job, which keeps it fresh. A queued job only waits for its kickoff, so it is kicked sooner.
 *
 * @param kickoffAfterMs @default staleAfterMs
 */
export function planSweep(job: BackupJob, now: number, staleAfterMs: number, abandonAfterMs: number, kickoffAfterMs = staleAfterMs): SweepAction {
  if (!(SWEPT_STATUSES as readonly JobStatus[]).includes(job.status)) return 'none';
  const idle = now - job.updatedAt;
  if (idle >= abandonAfterMs) return 'fail';
  if (job.status === 'queued' && idle >= kickoffAfterMs) return 'kickoff';
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
  const kickoffAfterMs = Math.min(options.kickoffAfterMs ?? DEFAULT_KICKOFF_AFTER_MS, staleAfterMs);
  const limit = options.limit ?? 100;
  const now = deps.clock.now();
  // Task ids carry the sweep window, so two sweeps racing in one window enqueue the work once,
  // and the next window can enqueue it again if it was lost once more.
  const window = Math.floor(now / staleAfterMs);
  const result: SweepResult = { kicked: [], requeued: [], failed: [] };
  // Two queries, so running jobs that are idle but not yet stale never crowd out queued ones.
  const ids = [
    ...new Set([
      ...(await find({ statuses: ['queued'], updatedBefore: now - kickoffAfterMs, limit })),
      ...(await find({ statuses: SWEPT_STATUSES, updatedBefore: now - staleAfterMs, limit })),
    ]),
  ];
  for (const jobId of ids) {
    const job = await deps.store.getJob(jobId);
    if (!job) continue;
    const action = planSweep(job, now, staleAfterMs, abandonAfterMs, kickoffAfterMs);
    const stale = now - job.updatedAt >= staleAfterMs;
    // Under its own id first: a kickoff lost before it reached the queue comes back once. Once
    // stale, under the window's id too, in case the job's own id was spent.
    const idOf = (id: string) => (stale ? `${id}_sweep_${window}` : id);
    if (action === 'kickoff') {
      await deps.queue.enqueue('kickoff', { jobId }, { id: idOf(kickoffTaskId(jobId, job.attempts)) });
      result.kicked.push(jobId);
    } else if (action === 'requeue') {
      result.requeued.push(await requeue(deps, job, idOf));
    } else if (action === 'fail' && (await failIdle(deps, jobId, now, abandonAfterMs))) {
      result.failed.push(jobId);
    }
  }
  if (result.kicked.length + result.requeued.length + result.failed.length > 0) deps.logger.info('stale-job sweep', { ...result });
  return result;
}

/**
 * Enqueues, under the ids of their first enqueue, the work of every queued and running job
 * updated before `before`: a queued job's kickoff, a running job's chunks whose bytes arrived and
 * its finalize when it is ready. A runtime that restarts after a crash (embedded) runs it once at
 * start: whatever a crash lost between a committed change and its enqueue (a job created but not
 * kicked off, a chunk whose upload event was lost) is queued again, and whatever is queued already
 * is not doubled (the queue deduplicates the ids). At most `limit` jobs of each status; the
 * periodic sweep covers any beyond.
 */
export async function reconcileJobs(deps: EngineDeps, find: StaleJobFinder, options: { before: number; limit?: number }): Promise<SweepResult> {
  const limit = options.limit ?? 1000;
  const result: SweepResult = { kicked: [], requeued: [], failed: [] };
  for (const status of SWEPT_STATUSES) {
    for (const jobId of await find({ statuses: [status], updatedBefore: options.before, limit })) {
      const job = await deps.store.getJob(jobId);
      if (!job || job.status !== status) continue;
      if (status === 'queued') {
        const { enqueued } = await deps.queue.enqueue('kickoff', { jobId }, { id: kickoffTaskId(jobId, job.attempts) });
        if (enqueued) result.kicked.push(jobId);
      } else {
        const requeued = await requeue(deps, job, (id) => id);
        if (requeued.chunks > 0 || requeued.finalize) result.requeued.push(requeued);
      }
    }
  }
  if (result.kicked.length + result.requeued.length > 0) deps.logger.info('jobs reconciled with the task queue', { ...result });
  return result;
}

/**
 * Enqueues processing of every chunk whose bytes arrived, and finalize when the job is ready for
 * it, under the ids `idOf` makes of their derived ids; counts only what the queue took as new.
 */
async function requeue(deps: EngineDeps, job: BackupJob, idOf: (id: string) => string): Promise<{ jobId: string; chunks: number; finalize: boolean }> {
  let chunks = 0;
  // A chunk whose bytes arrived but whose processing was lost (the upload event or its enqueue
  // went missing, a worker died) is processed again.
  for await (const chunk of chunksAwaitingProcessing(deps, job)) {
    const { enqueued } = await deps.queue.enqueue('processChunk', { jobId: job.id, chunkId: chunk.id }, { id: idOf(processChunkTaskId(job.id, chunk.id, job.attempts)) });
    if (enqueued) chunks++;
  }
  let finalize = false;
  if (await readyToFinalize(deps, job)) {
    finalize = (await deps.queue.enqueue('finalize', { jobId: job.id }, { id: idOf(finalizeTaskId(job.id, job.attempts)) })).enqueued;
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
