import type { EngineDeps } from '../deps';
import { lifeboatError } from '../errors';
import { assertOwner } from '../jobs';
import type { BackupJob } from '../model';
import { transition } from '../state-machine';
import { maybeFinalize } from '../steps/maybe-finalize';
import { kickoffTaskId } from '../task-ids';
import { computeProgress, progressSums } from '../job-progress';
import { scheduleUserMaintenance } from '../maintenance';
import { cleanUpJobSoon } from '../steps/job-cleanup';
import { parseInput, requireUid, type CallableRequest } from './callable';
import { JobRef, PauseBackupInput } from '@lifeboat/protocol';

/** Applies `change` to the caller's job in one transaction; illegal moves are refused unchanged. */
async function changeJob(
  request: CallableRequest,
  deps: EngineDeps,
  jobId: string,
  change: (job: BackupJob, now: number) => BackupJob,
): Promise<BackupJob> {
  const uid = requireUid(request);
  const now = deps.clock.now();
  // The job document is written anyway: it takes the progress of the moment with it.
  const sums = await progressSums(deps.store, jobId);
  return deps.store.runTransaction(async (tx) => {
    const job = assertOwner(await tx.getJob(jobId), uid, 'job', jobId);
    const changed = change(job, now);
    // A change that returns the job as it is (a repeated call) writes nothing.
    const next = changed === job ? job : { ...changed, progress: computeProgress(changed, sums), progressAt: now };
    if (next !== job) tx.setJob(next);
    return next;
  });
}

/** Pauses a queued or running job with a reason (`waiting_for_wifi`, `battery_low`, `user`, ...). */
export async function pauseBackup(request: CallableRequest, deps: EngineDeps): Promise<{ job: BackupJob }> {
  const { jobId, reason } = parseInput(PauseBackupInput, request.data, 'pauseBackup');
  const job = await changeJob(request, deps, jobId, (j, now) =>
    j.status === 'paused' ? { ...j, pauseReason: reason, updatedAt: now } : transition(j, 'paused', now, { pauseReason: reason }),
  );
  return { job };
}

/** Resumes a paused job; resuming a job that is not paused is a no-op that returns it. */
export async function resumeBackup(request: CallableRequest, deps: EngineDeps): Promise<{ job: BackupJob }> {
  const { jobId } = parseInput(JobRef, request.data, 'resumeBackup');
  const job = await changeJob(request, deps, jobId, (j, now) => {
    if (j.status !== 'paused') return j;
    const phase = j.phase === 'pending' ? (j.uploadCommitted ? 'processing' : 'uploading') : j.phase;
    const next = transition(j, 'running', now, { phase });
    // Paused before kickoff ran: this resume is the job's first start.
    return next.attempts === 0 ? { ...next, attempts: 1, startedAt: now } : next;
  });
  await maybeFinalize(deps, jobId);
  return { job };
}

/**
 * Cancels a job that has not completed; its upload sessions (with their partial bytes), raw
 * uploads and registration state are deleted, stored blobs stay for dedup (garbage collection
 * frees what nothing names). Cancelling a cancelled job answers it again (a retried call whose
 * first answer was lost), and repeats the cleanup, which is idempotent.
 */
export async function cancelBackup(request: CallableRequest, deps: EngineDeps): Promise<{ job: BackupJob }> {
  const { jobId } = parseInput(JobRef, request.data, 'cancelBackup');
  const job = await changeJob(request, deps, jobId, (j, now) => (j.status === 'cancelled' ? j : transition(j, 'cancelled', now)));
  // Sessions first: a PUT still arriving then finds no session instead of landing a raw upload
  // after the raw uploads were listed. Cleanup failing costs space only (the sweeps retry it).
  try {
    await deps.uploads.discardJob(job.uid, jobId);
  } catch (err) {
    deps.logger.warn(`upload session cleanup after cancel failed [job=${jobId}]: ${(err as Error).message}`);
  }
  // Raw uploads and registration state: a bounded time here, the rest as a task, so the call
  // never waits on work that grows with the job.
  await cleanUpJobSoon(deps, job.uid, jobId, 'cancel');
  await scheduleUserMaintenance(deps, job.uid);
  return { job };
}

/**
 * Retries a failed job: `failed -> queued`, then kickoff re-enqueues the chunks the failed run
 * left unprocessed. The device uploads what is still missing (registerChunks tells it).
 */
export async function retryBackup(request: CallableRequest, deps: EngineDeps): Promise<{ job: BackupJob }> {
  const { jobId } = parseInput(JobRef, request.data, 'retryBackup');
  const job = await changeJob(request, deps, jobId, (j, now) => {
    if (j.status !== 'failed') {
      throw lifeboatError('failed-precondition', `retryBackup: job ${jobId} is ${j.status}, not failed`);
    }
    return transition(j, 'queued', now);
  });
  await deps.queue.enqueue('kickoff', { jobId }, { id: kickoffTaskId(jobId, job.attempts) });
  return { job };
}
