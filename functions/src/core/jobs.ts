import type { JobStore } from '../ports';
import { lifeboatError } from './errors';
import { emptyProgress, type BackupJob } from './model';

/** The job, or `not-found` (permanent: retrying will not create it). */
export async function requireJob(store: JobStore, jobId: string): Promise<BackupJob> {
  const job = await store.getJob(jobId);
  if (!job) throw lifeboatError('not-found', `job ${jobId} does not exist`, { retryable: false, details: { jobId } });
  return job;
}

/** The job if `uid` owns it: `not-found` when absent, `permission-denied` when another user's. */
export function assertOwner<T extends { uid: string }>(doc: T | null, uid: string, what: string, id: string): T {
  if (!doc) throw lifeboatError('not-found', `${what} ${id} does not exist`, { details: { [`${what}Id`]: id } });
  if (doc.uid !== uid) {
    throw lifeboatError('permission-denied', `${what} ${id} belongs to another user`, { details: { [`${what}Id`]: id } });
  }
  return doc;
}

/** A new job document before any run: the fields a caller chooses, the rest at their start values. */
export function newJob(
  fields: Pick<BackupJob, 'id' | 'uid' | 'deviceId' | 'types' | 'options' | 'trigger' | 'scheduleId' | 'status' | 'pauseReason'>,
  now: number,
): BackupJob {
  return {
    ...fields,
    phase: 'pending',
    progress: emptyProgress(),
    progressFrom: 'records',
    attempts: 0,
    lastError: null,
    uploadCommitted: false,
    snapshotId: null,
    createdAt: now,
    updatedAt: now,
    startedAt: null,
    finishedAt: null,
    heartbeatAt: null,
  };
}
