/**
 * Attempt records: how a step attempt that dies (out of memory, past its deadline, crashed) is
 * recorded instead of leaving its job `running` (docs/invariants.md, "Retries").
 *
 * A dead worker runs no code, so its death is recorded by whoever runs next:
 * - the next attempt of the same task: an attempt that failed normally left a `failed` record
 *   (runStep writes it with the error), so an attempt that finds none for its predecessor knows
 *   the predecessor died, and records that on the job before it works;
 * - after a last attempt there is no next attempt: the last attempt writes a `started` record
 *   before its work and schedules a death check (death-check.ts), which fails the job with the
 *   cause if the record still says `started` once the attempt's deadline has passed;
 * - a queue that sees the death itself (the embedded queue: a worker thread that ran out of
 *   memory or was stopped at its deadline, a lease that ran out) reports it at once
 *   ({@link recordLostAttempt}, wired to the queue's hook by the runtime).
 *
 * First attempts write nothing, so a step that succeeds at once costs no extra write; a record is
 * written only where an attempt failed, died or was its task's last.
 *
 * Records live where the step's own state lives: on the chunk for `processChunk`, on the job
 * (`stepAttempts`, by step) for the job's own steps, so concurrent chunk steps never write the job
 * for them.
 */
import type { JobTransaction, QueueName } from '../../ports';
import type { EngineDeps } from '../deps';
import { lifeboatError, wrapError, type ErrorCode } from '../errors';
import type { BackupJob, ChunkRecord, JobError, StepAttempt } from '../model';
import { isActive, transition } from '../state-machine';

/** The steps that keep attempt records: the queues of a job's work (not upkeep, not the death check). */
export const RECORDED_STEPS = ['kickoff', 'processChunk', 'finalize', 'sourcePage'] as const satisfies readonly QueueName[];
export type RecordedStep = (typeof RECORDED_STEPS)[number];

export function isRecordedStep(queue: QueueName): queue is RecordedStep {
  return (RECORDED_STEPS as readonly QueueName[]).includes(queue);
}

/** The ids a step's payload names. */
export interface StepIds {
  jobId: string;
  chunkId?: string;
  /** Server-side source of a `sourcePage` step. */
  source?: string;
}

/** Where a step's attempt record lives. */
export type AttemptSlot =
  | { kind: 'chunk'; jobId: string; chunkId: string }
  | { kind: 'job'; jobId: string; key: string };

/** `processChunk` records on its chunk; the job's own steps on the job, by step (and source). */
export function attemptSlot(step: RecordedStep, ids: StepIds): AttemptSlot {
  if (step === 'processChunk' && ids.chunkId) return { kind: 'chunk', jobId: ids.jobId, chunkId: ids.chunkId };
  return { kind: 'job', jobId: ids.jobId, key: ids.source ? `${step}:${ids.source}` : step };
}

interface SlotRead {
  job: BackupJob | null;
  chunk: ChunkRecord | null;
  attempt: StepAttempt | undefined;
}

/** Reads the job, the chunk of a chunk slot, and the slot's record (all reads before any write). */
export async function readSlot(tx: JobTransaction, slot: AttemptSlot): Promise<SlotRead> {
  const job = await tx.getJob(slot.jobId);
  if (slot.kind === 'job') return { job, chunk: null, attempt: job?.stepAttempts?.[slot.key] };
  const [chunk] = await tx.getChunks(slot.jobId, [slot.chunkId]);
  return { job, chunk: chunk ?? null, attempt: chunk?.attempt };
}

/**
 * Buffers a record in its slot together with a change of the job (`job`, when the caller changes
 * it), as one write per document.
 */
export function writeAttempt(tx: JobTransaction, slot: AttemptSlot, read: SlotRead, record: StepAttempt, job?: BackupJob): void {
  if (slot.kind === 'job') {
    const base = job ?? read.job;
    if (base) tx.setJob({ ...base, stepAttempts: { ...base.stepAttempts, [slot.key]: record } });
    return;
  }
  if (job) tx.setJob(job);
  if (read.chunk) tx.setChunk({ ...read.chunk, attempt: record });
}

/** True when `record` is attempt `retry` of task `taskId`. */
function isAttempt(record: StepAttempt | undefined, taskId: string, retry: number): record is StepAttempt {
  return record !== undefined && record.task === taskId && record.retry === retry;
}

/**
 * Whether the work of a step is visibly done, whatever its attempt record says: a death check or
 * a lost attempt must never fail a job whose step got through (say its reply was lost).
 */
function stepDone(step: RecordedStep, job: BackupJob, chunk: ChunkRecord | null): boolean {
  if (step === 'processChunk') return chunk?.state === 'processed';
  if (step === 'kickoff') return job.status !== 'queued';
  if (step === 'finalize') return job.status !== 'running';
  return false;
}

/** Why an attempt ended without an outcome of its own. */
/**
 * `deadline`: stopped at its dispatch deadline; `out-of-memory`, `worker-exit`: its worker died
 * so; `unknown`: its worker died unseen (a lease or a death check found it); `unrecorded`: its
 * handler failed and could not record the failure (the store was down).
 */
export const LOSS_CAUSES = ['deadline', 'out-of-memory', 'worker-exit', 'unknown', 'unrecorded'] as const;
export type LossCause = (typeof LOSS_CAUSES)[number];

const LOSS_CODES: Readonly<Record<LossCause, ErrorCode>> = {
  deadline: 'deadline-exceeded',
  'out-of-memory': 'resource-exhausted',
  'worker-exit': 'internal',
  unknown: 'internal',
  unrecorded: 'internal',
};

/** The cause as the job's `lastError` says it. */
function lossText(cause: LossCause, final: boolean, deadlineSeconds: number | undefined, detail: string | undefined): string {
  const last = final ? ' on the last attempt' : '';
  switch (cause) {
    case 'deadline':
      return `worker stopped at its ${deadlineSeconds ?? '?'} s dispatch deadline${last}`;
    case 'out-of-memory':
      return `worker ran out of memory${last}`;
    case 'worker-exit':
      return `worker crashed${last}`;
    case 'unknown':
      return final ? 'worker died on the last attempt: out of memory or timeout' : 'worker died without recording an outcome: out of memory, timeout or crash';
    case 'unrecorded':
      return `failed${last} and could not record it: ${detail ?? 'unknown error'}`;
  }
}

/** An attempt that ended without its step recording the outcome. */
export interface LostAttempt {
  /** The queue's id of the task. */
  taskId: string;
  /** The lost attempt's retry count (0: the first attempt). */
  retryCount: number;
  /** No attempt follows: the job fails with the cause. */
  final: boolean;
  cause: LossCause;
  /** The attempt's dispatch deadline, named in a `deadline` cause. @default unnamed */
  deadlineSeconds?: number;
  /** The error of an `unrecorded` cause. @default none */
  detail?: string;
  /**
   * Act only if the slot still holds this attempt's `started` record (the death check: any other
   * record means the attempt ended and said so). @default false: act unless this attempt's
   * outcome is already recorded
   */
  requireStarted?: boolean;
}

/**
 * Records a lost attempt on its job: a note with the cause while retries remain, the job `failed`
 * with the cause after the last one; plus a `died` record, so the next attempt and a repeated
 * report know it is recorded. Idempotent: an attempt whose outcome is recorded is left alone, and
 * a job whose step is visibly done is never failed.
 *
 * @returns whether anything was written.
 */
export async function recordLostAttempt(deps: Pick<EngineDeps, 'store' | 'clock' | 'logger'>, step: RecordedStep, ids: StepIds, lost: LostAttempt): Promise<boolean> {
  const slot = attemptSlot(step, ids);
  const now = deps.clock.now();
  const error = wrapError(lifeboatError(LOSS_CODES[lost.cause], lossText(lost.cause, lost.final, lost.deadlineSeconds, lost.detail)), `${step} failed`, {
    job: ids.jobId,
    chunk: ids.chunkId,
    attempt: lost.retryCount + 1,
  });
  const written = await deps.store.runTransaction(async (tx) => {
    const read = await readSlot(tx, slot);
    const { job } = read;
    if (!job || !isActive(job.status) || stepDone(step, job, read.chunk)) return false;
    const record = read.attempt;
    const mine = isAttempt(record, lost.taskId, lost.retryCount);
    const started = mine && record.outcome === 'started';
    // The death check acts only on this attempt's `started` record; a queue's report unless this
    // attempt's outcome (failed, died, finished) is recorded already.
    if (lost.requireStarted ? !started : mine && !started) return false;
    const lastError: JobError = { code: error.code, message: error.message, step, at: now, retrying: !lost.final };
    const next = lost.final ? transition(job, 'failed', now, { lastError }) : { ...job, lastError, updatedAt: now };
    writeAttempt(tx, slot, read, { task: lost.taskId, retry: lost.retryCount, outcome: 'died', at: now }, next);
    return true;
  });
  if (written) deps.logger[lost.final ? 'error' : 'warn'](error.message, { step, final: lost.final, code: error.code, cause: lost.cause });
  return written;
}

/**
 * Before an attempt's work: if an earlier attempt of this task left no record of its outcome, its
 * worker died, and that is noted on the job (retrying); a last attempt records that it started.
 * First attempts return without a read or a write.
 *
 * Its caller schedules the death check of a last attempt.
 */
export async function beginAttempt(
  deps: Pick<EngineDeps, 'store' | 'clock' | 'logger'>,
  step: RecordedStep,
  ids: StepIds,
  attempt: { taskId: string; retryCount: number; last: boolean; executionCount?: number },
): Promise<void> {
  const { taskId, retryCount, last } = attempt;
  if (retryCount === 0 && !last) return;
  const slot = attemptSlot(step, ids);
  const now = deps.clock.now();
  const noted = await deps.store.runTransaction(async (tx) => {
    const read = await readSlot(tx, slot);
    const { job } = read;
    if (!job || !isActive(job.status) || (slot.kind === 'chunk' && !read.chunk)) return false;
    const previous = read.attempt;
    const recorded = isAttempt(previous, taskId, retryCount - 1) && (previous.outcome === 'failed' || previous.outcome === 'died');
    // This very attempt ran before and was handed back (its server stopped or restarted): its
    // record is its own, and the attempt before it ended as recorded then.
    const again = isAttempt(previous, taskId, retryCount);
    const died = retryCount > 0 && !recorded && !again;
    let next: BackupJob | undefined;
    if (died) {
      const seen = attempt.executionCount === undefined ? '' : ` (Cloud Tasks: ${attempt.executionCount} of ${retryCount} earlier attempts answered)`;
      const error = wrapError(lifeboatError('internal', `${lossText('unknown', false, undefined, undefined)}${seen}`), `${step} failed`, {
        job: ids.jobId,
        chunk: ids.chunkId,
        attempt: retryCount,
      });
      next = { ...job, lastError: { code: error.code, message: error.message, step, at: now, retrying: true }, updatedAt: now };
    }
    const record: StepAttempt | null = last
      ? { task: taskId, retry: retryCount, outcome: 'started', at: now }
      : died
        ? { task: taskId, retry: retryCount - 1, outcome: 'died', at: now }
        : null;
    if (record) writeAttempt(tx, slot, read, record, next);
    else if (next) tx.setJob(next);
    return died;
  });
  if (noted) deps.logger.warn(`${step} attempt ${retryCount} died without recording an outcome`, { job: ids.jobId, chunk: ids.chunkId, task: taskId });
}

/** After a last attempt's work succeeded: its record says so, and its death check finds nothing to do. */
export async function finishLastAttempt(deps: Pick<EngineDeps, 'store' | 'clock'>, step: RecordedStep, ids: StepIds, taskId: string, retryCount: number): Promise<void> {
  const slot = attemptSlot(step, ids);
  const now = deps.clock.now();
  await deps.store.runTransaction(async (tx) => {
    const read = await readSlot(tx, slot);
    if (!read.job || !isAttempt(read.attempt, taskId, retryCount) || read.attempt.outcome !== 'started') return;
    writeAttempt(tx, slot, read, { task: taskId, retry: retryCount, outcome: 'finished', at: now });
  });
}
