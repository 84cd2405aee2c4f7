import type { EngineDeps } from '../deps';
import { assertEndToEndCompatible } from '../e2e-opaque';
import { lifeboatError } from '../errors';
import type { BackupJob } from '../model';
import { onJobCreated } from '../events/job-created';
import { assertOwner, newJob } from '../jobs';
import { parseInput, requireUid, type CallableRequest } from './callable';
import { CreateBackupJobInput } from './schemas';

/**
 * Creates a queued job. The job document's creation is what starts it (see onJobCreated), so
 * this handler only writes. With a client-chosen `jobId` a retried call returns the same job, and
 * enqueues its kickoff again while it is still queued: the create may have committed and its
 * kickoff been lost in a crash before this retry (docs/invariants.md, "Idempotency"); the queue
 * deduplicates the kickoff's derived id, so it is never doubled.
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
  const now = deps.clock.now();
  const job = newJob(
    { id: input.jobId ?? deps.newId(), uid, deviceId: input.deviceId, types: input.types, options: input.options, trigger: 'manual', scheduleId: null, status: 'queued', pauseReason: null },
    now,
  );
  const { created } = await deps.store.createJob(job);
  if (created) return { job };
  const existing = assertOwner(await deps.store.getJob(job.id), uid, 'job', job.id);
  if (existing.status === 'queued') await onJobCreated(deps, existing);
  return { job: existing };
}
