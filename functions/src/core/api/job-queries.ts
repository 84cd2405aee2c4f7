import type { EngineDeps } from '../deps';
import { assertOwner } from '../jobs';
import type { BackupJob } from '../model';
import { parseInput, requireUid, type CallableRequest } from './callable';
import { JobRef, ListBackupJobsInput } from './schemas';

export async function getBackupJob(request: CallableRequest, deps: EngineDeps): Promise<{ job: BackupJob }> {
  const uid = requireUid(request);
  const { jobId } = parseInput(JobRef, request.data, 'getBackupJob');
  return { job: assertOwner(await deps.store.getJob(jobId), uid, 'job', jobId) };
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
