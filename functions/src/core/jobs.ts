import type { JobStore } from '../ports';
import { lifeboatError } from './errors';
import type { BackupJob } from './model';

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
