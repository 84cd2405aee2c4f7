import type { EngineDeps } from '../deps';
import type { BackupJob } from '../model';
import { kickoffTaskId } from '../task-ids';

/**
 * "A job document was created" (onDocumentCreated on Firebase, the store's create hook embedded):
 * enqueue its kickoff. Reacting to the document rather than to the API call means jobs created by
 * the API, the scheduler or an admin tool all start the same way.
 */
export async function onJobCreated(deps: EngineDeps, job: BackupJob): Promise<void> {
  if (job.status !== 'queued') return;
  await deps.queue.enqueue('kickoff', { jobId: job.id }, { id: kickoffTaskId(job.id, job.attempts) });
}
