/**
 * Job status transitions. Every status change goes through {@link transition}, inside a store
 * transaction, so an illegal move (completing a cancelled job, resuming a completed one) is
 * refused with `failed-precondition` and nothing is written.
 */
import { lifeboatError } from './errors';
import type { BackupJob, JobPhase, JobStatus, PauseReason } from './model';

/** For each status, the statuses it may move to. Completed and cancelled are terminal. */
export const TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = Object.freeze({
  queued: ['running', 'paused', 'failed', 'cancelled'],
  running: ['paused', 'completed', 'failed', 'cancelled'],
  paused: ['running', 'failed', 'cancelled'],
  failed: ['queued', 'cancelled'],
  completed: [],
  cancelled: [],
});

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The fields a transition may change besides `status`. */
export interface TransitionPatch {
  phase?: JobPhase;
  pauseReason?: PauseReason | null;
  lastError?: BackupJob['lastError'];
  snapshotId?: string | null;
}

/**
 * Returns the job after moving it to `to` at time `now`. Throws `failed-precondition` when the
 * move is illegal. Pausing requires a reason; leaving `paused` clears it. Entering `running` from
 * `queued` counts an attempt and stamps `startedAt`; terminal and failed states stamp `finishedAt`.
 */
export function transition(job: BackupJob, to: JobStatus, now: number, patch: TransitionPatch = {}): BackupJob {
  if (!canTransition(job.status, to)) {
    throw lifeboatError(
      'failed-precondition',
      `job ${job.id} cannot go from ${job.status} to ${to}`,
      { details: { jobId: job.id, from: job.status, to } },
    );
  }
  if (to === 'paused' && !patch.pauseReason) {
    throw lifeboatError('invalid-argument', `pausing job ${job.id} needs a reason`);
  }
  const next: BackupJob = {
    ...job,
    status: to,
    updatedAt: now,
    pauseReason: to === 'paused' ? (patch.pauseReason ?? null) : null,
  };
  if (patch.phase !== undefined) next.phase = patch.phase;
  if (patch.lastError !== undefined) next.lastError = patch.lastError;
  if (patch.snapshotId !== undefined) next.snapshotId = patch.snapshotId;
  if (to === 'running' && job.status === 'queued') {
    next.attempts = job.attempts + 1;
    next.startedAt = job.startedAt ?? now;
    next.finishedAt = null;
  }
  if (to === 'queued') next.finishedAt = null;
  if (to === 'completed' || to === 'cancelled' || to === 'failed') next.finishedAt = now;
  if (to === 'completed') next.phase = 'done';
  if (to === 'completed' && patch.lastError === undefined) next.lastError = null;
  return next;
}

/** True for statuses in which steps may still do work on the job. */
export function isActive(status: JobStatus): boolean {
  return status === 'queued' || status === 'running' || status === 'paused';
}
