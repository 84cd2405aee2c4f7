/**
 * Per-user maintenance at scale (docs/firebase.md, "Capacity"): retention, then garbage
 * collection, for one user, as a task. Every job that completes or is cancelled enqueues one for
 * its user (a failed job's results are kept for its retry, so its failure frees nothing), delayed
 * past GC's grace period so what the job left is old enough to go, and named by the user and the
 * hour so a user's busy hour costs one run. So every user with something to collect is collected
 * within about an hour of it, by as many instances as the queue allows, instead of a daily loop
 * over a few hundred users. The daily runs stay as a backstop for an enqueue that was lost.
 */
import { z } from 'zod';
import type { EngineDeps } from './deps';
import { messageOf } from './errors';
import { sha256Hex } from './hash';
import { CheckTaskPayload, runCheckTask } from './snapshots/check-task';
import { collectGarbage, DEFAULT_GC_GRACE_MS } from './snapshots/gc';
import { applyUserRetention } from './snapshots/retention-settings';
import { runVerifyRound } from './snapshots/verify-rounds';
import { cleanUpJob, enqueueCleanupRound } from './steps/job-cleanup';

/**
 * A user's maintenance (`{ uid }`), a round of a finished job's cleanup (steps/job-cleanup.ts), a
 * round of a snapshot's verify (snapshots/verify-rounds.ts), or an admin's check of a user
 * (snapshots/check-task.ts), which share the queue: all are bounded upkeep that belongs to no
 * running job.
 */
export const MaintenanceTaskPayload = z.union([
  z.object({ kind: z.literal('jobCleanup'), uid: z.string().min(1).max(256), jobId: z.string().min(1).max(256), round: z.number().int().positive() }),
  z.object({
    kind: z.literal('verify'),
    uid: z.string().min(1).max(256),
    snapshotId: z.string().min(1).max(256),
    startedAt: z.number().int().nonnegative(),
    round: z.number().int().positive(),
  }),
  CheckTaskPayload,
  z.object({ kind: z.literal('user').optional(), uid: z.string().min(1).max(256) }),
]);
export type MaintenanceTaskPayload = z.output<typeof MaintenanceTaskPayload>;

/** The `maintenance` queue's default dispatch deadline (core/task-definitions.ts), in seconds. */
const MAINTENANCE_DEADLINE_SECONDS = 540;
/** What a round leaves between its last piece of work and its deadline, to save and enqueue the next. */
const ROUND_STOP_MARGIN_MS = 60_000;

/**
 * How long a maintenance round works before it leaves the rest to its next round: a minute short
 * of its deadline (480 s of 540 s), or half of a deadline shorter than two minutes.
 */
export function maintenanceWorkMs(deadlineSeconds: number): number {
  const deadlineMs = deadlineSeconds * 1000;
  return Math.max(deadlineMs - ROUND_STOP_MARGIN_MS, Math.floor(deadlineMs / 2));
}

/**
 * The `maintenance` queue's handler.
 * @param options.deadlineSeconds the queue's dispatch deadline as deployed. @default 540
 */
export async function runMaintenanceTask(deps: EngineDeps, payload: MaintenanceTaskPayload, options: { signal?: AbortSignal; deadlineSeconds?: number } = {}): Promise<void> {
  const stopAt = deps.clock.now() + maintenanceWorkMs(options.deadlineSeconds ?? MAINTENANCE_DEADLINE_SECONDS);
  if (payload.kind === 'verify') {
    const { uid, snapshotId, startedAt, round } = payload;
    return runVerifyRound(deps, { uid, snapshotId, startedAt, round }, stopAt, options.signal);
  }
  if (payload.kind === 'check') {
    return runCheckTask(deps, payload, { stopAt, ...(options.signal ? { signal: options.signal } : {}) });
  }
  if (payload.kind !== 'jobCleanup') return runUserMaintenance(deps, payload.uid, { stopAt, ...(options.signal ? { signal: options.signal } : {}) });
  const result = await cleanUpJob(deps, payload.uid, payload.jobId, stopAt, options.signal);
  deps.logger.info('job cleanup round done', { jobId: payload.jobId, round: payload.round, ...result });
  if (!result.done) await enqueueCleanupRound(deps, payload.uid, payload.jobId, payload.round + 1);
}

/** After the job ends, how long its user's maintenance waits: GC's grace period and 5 minutes. */
export const DEFAULT_MAINTENANCE_DELAY_SECONDS = DEFAULT_GC_GRACE_MS / 1000 + 300;

/**
 * Enqueues the user's maintenance after a job of theirs ended. A runtime that collects otherwise
 * (embedded: after each backup, in process) sets `maintenanceDelaySeconds: null`. Never fails the
 * caller: a lost enqueue leaves the daily backstop to do it.
 */
export async function scheduleUserMaintenance(deps: Pick<EngineDeps, 'queue' | 'clock' | 'logger' | 'maintenanceDelaySeconds'>, uid: string): Promise<void> {
  const delaySeconds = deps.maintenanceDelaySeconds === undefined ? DEFAULT_MAINTENANCE_DELAY_SECONDS : deps.maintenanceDelaySeconds;
  if (delaySeconds === null) return;
  const hour = Math.floor(deps.clock.now() / 3_600_000);
  try {
    await deps.queue.enqueue('maintenance', { uid }, { id: `maintenance_${sha256Hex(new TextEncoder().encode(uid)).slice(0, 24)}_${hour}`, delaySeconds });
  } catch (err) {
    deps.logger.warn('user maintenance not enqueued; the daily run covers it', { uid, error: messageOf(err) });
  }
}

/**
 * The `maintenance` queue's handler: the user's retention, then a GC run (which defers while a job
 * of theirs is active, and stops deleting at `stopAt`: the next run carries on).
 */
export async function runUserMaintenance(deps: EngineDeps, uid: string, options: { signal?: AbortSignal; stopAt?: number } = {}): Promise<void> {
  const retention = await applyUserRetention(deps, uid);
  const gc = await collectGarbage(deps, uid, { ...(options.signal ? { signal: options.signal } : {}), ...(options.stopAt !== undefined ? { stopAt: options.stopAt } : {}) });
  deps.logger.info('user maintenance done', { uid, forgotten: retention.forget.length, gc: gc.status, deletedBlobs: gc.deletedBlobs, deletedBytes: gc.deletedBytes });
}
