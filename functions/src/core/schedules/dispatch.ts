/**
 * The schedule dispatcher (an `onSchedule` function on Firebase, a timer embedded): turns due
 * schedules into jobs.
 *
 * - Idempotent: a run's job id derives from the schedule and its slot, and is created if absent
 *   before the schedule moves on, so a dispatcher that dies between the two steps, or two that run
 *   at once, create the run once.
 * - Never two runs of one schedule at once: while the previous run's job is active, the slot is
 *   skipped.
 * - Catch-up: at most one missed run. After downtime the due schedule creates one job and its
 *   next run is computed from now, not from the missed slots.
 * - Device-held types need the device: the job is created `paused` with `waiting_for_device`,
 *   the device is woken (Notifier: an FCM data message on Firebase) and what came of it is kept
 *   on the job (`wakeUp`: sent, no token, a dead token removed, failed), and a run the device does
 *   not pick up within `deviceWaitHours` is failed when the schedule next comes due.
 */
import type { EngineDeps } from '../deps';
import { newJob } from '../jobs';
import { scopedJobId } from '../scoped-ids';
import type { Schedule, WakeUp } from '../model';
import { isActive, transition } from '../state-machine';
import { nextRunAt } from './next-run';

/** @default 24: a scheduled run waits a day for its device. */
export const DEFAULT_DEVICE_WAIT_HOURS = 24;

export function scheduledJobId(scheduleId: string, slot: number): string {
  return `s_${scheduleId}_${slot}`;
}

export interface DispatchResult {
  created: string[];
  skipped: Array<{ scheduleId: string; reason: 'overlap' | 'disabled' | 'not-due' }>;
  expired: string[];
}

export async function dispatchDueSchedules(deps: EngineDeps, options: { limit?: number; deviceWaitHours?: number } = {}): Promise<DispatchResult> {
  const now = deps.clock.now();
  const result: DispatchResult = { created: [], skipped: [], expired: [] };
  const due = await deps.store.listDueSchedules({ dueBy: now, limit: options.limit ?? 50 });
  for (const schedule of due) {
    await dispatchOne(deps, schedule, now, options.deviceWaitHours ?? DEFAULT_DEVICE_WAIT_HOURS, result);
  }
  return result;
}

/** Dispatches one due schedule (see the module comment for the rules). */
export async function dispatchOne(deps: EngineDeps, schedule: Schedule, now: number, deviceWaitHours: number, result: DispatchResult): Promise<void> {
  const slot = schedule.nextRunAt;
  const advance = (s: Schedule, patch: Partial<Schedule>): Schedule => ({ ...s, ...patch, nextRunAt: nextRunAt({ ...s, ...patch }, now), updatedAt: now });

  if (schedule.activeJobId) {
    const previous = await deps.store.getJob(schedule.activeJobId);
    const waitedTooLong = previous?.status === 'paused' && previous.pauseReason === 'waiting_for_device' && now - previous.createdAt > deviceWaitHours * 3_600_000;
    if (previous && waitedTooLong) {
      await deps.store.runTransaction(async (tx) => {
        const job = await tx.getJob(previous.id);
        if (!job || job.status !== 'paused' || job.pauseReason !== 'waiting_for_device') return;
        const lastError = { code: 'deadline-exceeded', message: `the device did not start this scheduled backup within ${deviceWaitHours} h`, step: 'schedule', at: now, retrying: false };
        tx.setJob(transition(job, 'failed', now, { lastError }));
      });
      result.expired.push(previous.id);
    } else if (previous && isActive(previous.status)) {
      await deps.store.runTransaction(async (tx) => {
        const current = await tx.getSchedule(schedule.id);
        if (current && current.nextRunAt === slot) tx.setSchedule(advance(current, {}));
      });
      result.skipped.push({ scheduleId: schedule.id, reason: 'overlap' });
      return;
    }
  }

  const runJob = (id: string) => newJob(
    {
      id,
      uid: schedule.uid,
      deviceId: schedule.deviceId,
      types: schedule.types,
      options: schedule.options,
      trigger: schedule.kind,
      scheduleId: schedule.id,
      // Every type this build backs up is held on the device: the run waits for it.
      status: 'paused',
      pauseReason: 'waiting_for_device',
    },
    now,
  );
  // The job first, then the schedule: see the module comment.
  let jobId = scheduledJobId(schedule.id, slot);
  const { created } = await deps.store.createJob(runJob(jobId));
  if (!created && (await deps.store.getJob(jobId))?.uid !== schedule.uid) {
    // Another user's job holds this run's id (created under a client key before ids were per
    // user): the run goes under the id derived from its owner, create-if-absent as well.
    jobId = scopedJobId(schedule.uid, jobId);
    await deps.store.createJob(runJob(jobId));
  }
  const moved = await deps.store.runTransaction(async (tx) => {
    const current = await tx.getSchedule(schedule.id);
    if (!current || current.nextRunAt !== slot) return false;
    tx.setSchedule(advance(current, { activeJobId: jobId, lastRunAt: slot }));
    return true;
  });
  if (!moved) return;
  result.created.push(jobId);
  let wakeUp: WakeUp;
  try {
    const result = await deps.notifier.notifyDevice(schedule.uid, schedule.deviceId, { kind: 'backup-requested', jobId });
    wakeUp = { at: deps.clock.now(), outcome: result?.outcome ?? 'sent', ...(result?.message ? { message: result.message } : {}) };
  } catch (err) {
    // The device also finds waiting runs when it next opens the app (listBackupJobs).
    deps.logger.warn(`could not wake device [schedule=${schedule.id}, job=${jobId}]: ${(err as Error).message}`);
    wakeUp = { at: deps.clock.now(), outcome: 'failed', message: (err as Error).message };
  }
  await recordWakeUp(deps, jobId, wakeUp).catch((err: unknown) => deps.logger.warn(`could not record the wake-up [job=${jobId}]: ${(err as Error).message}`));
}

/** Keeps on the waiting job how waking its device went, so the dashboard can say why it waits. */
async function recordWakeUp(deps: EngineDeps, jobId: string, wakeUp: WakeUp): Promise<void> {
  await deps.store.runTransaction(async (tx) => {
    const job = await tx.getJob(jobId);
    if (!job || job.status !== 'paused' || job.pauseReason !== 'waiting_for_device') return;
    tx.setJob({ ...job, wakeUp, updatedAt: wakeUp.at });
  });
}
