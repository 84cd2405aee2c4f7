import type { EngineDeps } from '../deps';
import { assertEndToEndCompatible } from '../e2e-opaque';
import { lifeboatError } from '../errors';
import type { BackupJob } from '../model';
import { onJobCreated } from '../events/job-created';
import { assertOwner, newJob } from '../jobs';
import { withMediaMode } from '../media-mode';
import { scopedJobId } from '../scoped-ids';
import { assertJobQuotas } from '../user-quotas';
import { parseInput, requireUid, type CallableRequest } from './callable';
import { CreateBackupJobInput } from '@lifeboat/protocol';

/**
 * Creates a queued job. The job document's creation is what starts it (see onJobCreated), so
 * this handler only writes. With a client-chosen `jobId` (an idempotency key) a retried call
 * returns the same job: the job is stored under an id derived from the user and the key
 * (core/scoped-ids.ts), so another user who took the same key first neither blocks this user nor
 * sees their job. A key that is the id of one of the caller's own jobs (a job stored under its key
 * before ids were per user, or the id a create returned, passed again) returns that job. A job
 * returned again is kicked off again while it is still queued: the create may have committed and
 * its kickoff been lost in a crash before this retry (docs/invariants.md, "Idempotency"); the
 * queue deduplicates the kickoff's derived id, so it is never doubled.
 *
 * @throws LifeboatError `resource-exhausted` (`details.limit`: `concurrentJobs`, `backupsPerDay`
 *   or `storedBytes`) when a new job would pass one of the user's quotas (user-quotas.ts).
 */
export async function createBackupJob(request: CallableRequest, deps: EngineDeps): Promise<{ job: BackupJob }> {
  const uid = requireUid(request);
  const input = parseInput(CreateBackupJobInput, request.data, 'createBackupJob');
  const unsupported = input.types.filter((t) => !deps.strategies[t]);
  if (unsupported.length > 0) {
    throw lifeboatError('unimplemented', `backup type not supported yet: ${unsupported.join(', ')}`, {
      details: { types: unsupported },
    });
  }
  assertEndToEndCompatible(input.options, 'createBackupJob');
  const options = withMediaMode(input.options, deps.mediaMode, 'createBackupJob');
  if (input.jobId !== undefined) {
    const own = await deps.store.getJob(input.jobId);
    // Another user's job under this id is ignored, never returned nor refused: it is not this key's job.
    if (own?.uid === uid) return again(deps, own);
  }
  const id = input.jobId !== undefined ? scopedJobId(uid, input.jobId) : deps.newId();
  // Before anything is written, so a refused call changes nothing (a repeat of a call that
  // created its job is never refused).
  await assertJobQuotas(deps, uid, id);
  const now = deps.clock.now();
  const job = newJob(
    {
      id,
      uid, deviceId: input.deviceId, types: input.types, options, trigger: 'manual', scheduleId: null, status: 'queued', pauseReason: null,
    },
    now,
  );
  const { created } = await deps.store.createJob(job);
  if (created) return { job };
  return again(deps, assertOwner(await deps.store.getJob(job.id), uid, 'job', job.id));
}

/** Answers a job created before; while it is queued, its kickoff is enqueued again (see above). */
async function again(deps: EngineDeps, job: BackupJob): Promise<{ job: BackupJob }> {
  if (job.status === 'queued') await onJobCreated(deps, job);
  return { job };
}
