import type { EngineDeps } from '../deps';
import { assertOwner } from '../jobs';
import type { BackupJob } from '../model';
import { computeProgress, progressSums } from '../job-progress';
import { isActive } from '../state-machine';
import { parseInput, requireUid, type CallableRequest } from './callable';
import { JobRef, ListBackupJobsInput } from '@lifeboat/protocol';

/**
 * The caller's job. An active job's progress is derived at the call from its chunk records (the
 * document's copy is rolled up at most every couple of seconds, and not after the last chunk of
 * a burst): reads pay for freshness, so writes need not.
 */
export async function getBackupJob(request: CallableRequest, deps: EngineDeps): Promise<{ job: BackupJob }> {
  const uid = requireUid(request);
  const { jobId } = parseInput(JobRef, request.data, 'getBackupJob');
  const job = assertOwner(await deps.store.getJob(jobId), uid, 'job', jobId);
  if (!isActive(job.status)) return { job };
  return { job: { ...job, progress: computeProgress(job, await progressSums(deps.store, jobId)) } };
}

export async function listBackupJobs(
  request: CallableRequest,
  deps: EngineDeps,
): Promise<{ jobs: BackupJob[]; nextPageToken?: string }> {
  const uid = requireUid(request);
  const input = parseInput(ListBackupJobsInput, request.data, 'listBackupJobs');
  const page = await deps.store.listJobs({
    uid,
    limit: input.limit ?? 20,
    ...(input.status ? { status: input.status } : {}),
    ...(input.pageToken ? { cursor: input.pageToken } : {}),
  });
  return { jobs: page.items, ...(page.nextCursor ? { nextPageToken: page.nextCursor } : {}) };
}
