import type { EngineDeps } from '../deps';
import { assertEndToEndCompatible } from '../e2e-opaque';
import { lifeboatError } from '../errors';
import type { BackupJob } from '../model';
import { assertOwner, newJob } from '../jobs';
import { withMediaMode } from '../media-mode';
import { scopedJobId } from '../scoped-ids';
import { parseInput, requireUid, type CallableRequest } from './callable';
import { CreateBackupJobInput } from './schemas';

/**
 * Creates a queued job. The job document's creation is what starts it (see onJobCreated), so
 * this handler only writes. With a client-chosen `jobId` (an idempotency key) a retried call
 * returns the same job: the job is stored under an id derived from the user and the key
 * (core/scoped-ids.ts), so another user who took the same key first neither blocks this user nor
 * sees their job. A key that is the id of one of the caller's own jobs (a job stored under its key
 * before ids were per user, or the id a create returned, passed again) returns that job.
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
    if (own?.uid === uid) return { job: own };
  }
  const now = deps.clock.now();
  const job = newJob(
    {
      id: input.jobId !== undefined ? scopedJobId(uid, input.jobId) : deps.newId(),
      uid, deviceId: input.deviceId, types: input.types, options, trigger: 'manual', scheduleId: null, status: 'queued', pauseReason: null,
    },
    now,
  );
  const { created } = await deps.store.createJob(job);
  if (created) return { job };
  const existing = assertOwner(await deps.store.getJob(job.id), uid, 'job', job.id);
  return { job: existing };
}
