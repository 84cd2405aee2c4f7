/**
 * Scheduled functions (Cloud Scheduler, UTC). Each is idempotent, so Cloud Scheduler's retries
 * and overlapping runs are harmless.
 */
import { onSchedule } from 'firebase-functions/v2/scheduler';
import { applyUserRetention, collectGarbage, continuePendingDeletions, GC_USERS_LIMIT, RETENTION_USERS_LIMIT, sampleQueues, startDispatchRun, SWEEP_LIMIT, sweepStaleJobs } from '../../core';
import { FUNCTION_RESOURCES } from '../config/function-resources';
import { ABANDON_JOB_HOURS, STALE_JOB_MINUTES } from '../config/params';
import { deployedResources, resourceOptions } from '../config/resource-params';
import { getRuntime } from '../runtime/firebase-runtime';

/** Look-back of the retention catch-up: a day plus an hour, so each daily run overlaps the last. */
export const RETENTION_LOOKBACK_MS = 25 * 3_600_000;

/**
 * Starts a dispatch run each minute: the `dispatch` tasks list due schedules in pages and dispatch
 * them in batches (core/schedules/dispatch-pages.ts), however many are due.
 */
export async function runScheduleDispatch(): Promise<void> {
  await startDispatchRun(getRuntime().deps);
}

/**
 * Re-enqueues lost work and fails abandoned jobs (core/steps/sweep-stale-jobs.ts), then carries
 * on the user data deletions under way (core/deletion): one whose caller went away, or that
 * waits out its settle time, ends within a run or two.
 */
export async function runStaleJobSweep(): Promise<void> {
  const { deps, findStaleJobs } = getRuntime();
  const startedAt = deps.clock.now();
  await sweepStaleJobs(deps, findStaleJobs, {
    staleAfterMs: STALE_JOB_MINUTES.value() * 60_000,
    abandonAfterMs: ABANDON_JOB_HOURS.value() * 3_600_000,
    limit: SWEEP_LIMIT,
  });
  const deletions = await continuePendingDeletions(deps, { stopAt: startedAt + (FUNCTION_RESOURCES.sweepStaleJobs.timeoutSeconds - 60) * 1000 });
  if (deletions.length > 0) deps.logger.info('user data deletions carried on', { users: deletions.length, done: deletions.filter((d) => d.status === 'done').length });
}

/**
 * Finalize applies retention after every backup, and a failure there must not fail the backup
 * (docs/invariants.md, "Retention"); every job that ends enqueues its user's maintenance task
 * (core/maintenance.ts: retention, then GC). This daily run is the backstop for an enqueue that
 * was lost: it re-applies retention for users with a recent snapshot, so such a failure is
 * repaired within a day. Snapshots that nothing new was added to
 * need no run: the rules count snapshots, not calendar days.
 */
export async function runRetention(): Promise<void> {
  const { deps, findSnapshotOwners } = getRuntime();
  const uids = await findSnapshotOwners(deps.clock.now() - RETENTION_LOOKBACK_MS, RETENTION_USERS_LIMIT);
  let forgotten = 0;
  let failed = 0;
  for (const uid of uids) {
    try {
      forgotten += (await applyUserRetention(deps, uid)).forget.length;
    } catch (err) {
      failed++;
      deps.logger.warn(`retention failed for a user; the next run retries it`, { uid, error: err instanceof Error ? err.message : String(err) });
    }
  }
  deps.logger.info('retention applied', { users: uids.length, forgotten, failed });
}

/** Look-back of the GC run: a day plus an hour, so each daily run overlaps the last. */
export const GC_LOOKBACK_MS = 25 * 3_600_000;
/**
 * The GC function's default timeout; a run reads the deployed one (`LIFEBOAT_COLLECT_GARBAGE_TIMEOUT_SECONDS`)
 * and stops starting new users a lease margin before it.
 */
export const GC_TIMEOUT_SECONDS = FUNCTION_RESOURCES.collectGarbage.timeoutSeconds;
/** Time left below which no new user's run starts. */
const GC_MIN_LEASE_MS = 2 * 60_000;
/** Every run stops deleting this long before the function's timeout, so none is cut off mid-way. */
const GC_STOP_MARGIN_MS = 60_000;

/**
 * Garbage is left by a snapshot retention forgot and by a job that stopped without one
 * (cancelled, failed); either follows a job finishing, and retention forgets only when a new
 * snapshot arrives. Every job that ends enqueues its user's maintenance task (core/maintenance.ts),
 * so this daily run is a backstop for a lost enqueue: it collects the users with a snapshot or a finished job in the
 * last 25 h; a user whose run deferred (a backup under way) or stopped early is found again the
 * next day while their latest job is that recent, and otherwise at their next backup. Each
 * user's run holds a short lease it renews while it works and stops deleting a minute before the
 * function's timeout; no run starts once too little time is left.
 *
 * @param timeoutSeconds the function's timeout. @default the deployed one
 */
export async function runGarbageCollection(startedAt: number = Date.now(), timeoutSeconds: number = deployedResources('collectGarbage').timeoutSeconds): Promise<void> {
  const { deps, findSnapshotOwners, findRecentJobOwners } = getRuntime();
  const since = deps.clock.now() - GC_LOOKBACK_MS;
  const uids = [...new Set([...(await findSnapshotOwners(since, GC_USERS_LIMIT)), ...((await findRecentJobOwners?.(since, GC_USERS_LIMIT)) ?? [])])].slice(0, GC_USERS_LIMIT);
  const totals = { users: uids.length, done: 0, deferred: 0, failed: 0, skipped: 0, deletedBlobs: 0, deletedBytes: 0 };
  for (const uid of uids) {
    const left = startedAt + timeoutSeconds * 1000 - Date.now();
    if (left < GC_MIN_LEASE_MS) {
      totals.skipped++;
      continue;
    }
    try {
      // The deadline in the engine clock's terms (the same clock in production).
      const report = await collectGarbage(deps, uid, { stopAt: deps.clock.now() + left - GC_STOP_MARGIN_MS });
      totals[report.status]++;
      totals.deletedBlobs += report.deletedBlobs;
      totals.deletedBytes += report.deletedBytes;
    } catch (err) {
      totals.failed++;
      deps.logger.warn('garbage collection failed for a user; a later run retries it', { uid, error: err instanceof Error ? err.message : String(err) });
    }
  }
  deps.logger.info('garbage collected', totals);
}

/** Records every queue's depth for the dashboard's "queue depth over time" (one document a run). */
export async function runQueueSample(): Promise<void> {
  const { admin } = getRuntime();
  if (admin) await sampleQueues(admin);
}

export const queueSampler = () =>
  onSchedule({ schedule: 'every 5 minutes', timeZone: 'UTC', ...resourceOptions('sampleQueues'), retryCount: 0 }, runQueueSample);

export const scheduleDispatcher = () =>
  onSchedule({ schedule: 'every 1 minutes', timeZone: 'UTC', ...resourceOptions('dispatchSchedules'), retryCount: 0 }, runScheduleDispatch);

export const staleJobSweeper = () =>
  onSchedule({ schedule: 'every 15 minutes', timeZone: 'UTC', ...resourceOptions('sweepStaleJobs'), retryCount: 0 }, runStaleJobSweep);

export const retentionSchedule = () =>
  onSchedule({ schedule: 'every day 03:30', timeZone: 'UTC', ...resourceOptions('applyRetention'), retryCount: 1 }, runRetention);

export const garbageCollectionSchedule = () =>
  onSchedule({ schedule: 'every day 04:30', timeZone: 'UTC', ...resourceOptions('collectGarbage'), retryCount: 1 }, () => runGarbageCollection());
