import type { EngineDeps } from '../deps';
import { lifeboatError } from '../errors';
import { assertOwner } from '../jobs';
import { uploadKey } from '../keys';
import type { BackupJob, ChunkState } from '../model';
import { maybeFinalize } from '../steps/maybe-finalize';
import { registeredChunks } from '../steps/registered-chunks';
import { SOURCE_CHUNK_INDEX_BASE } from '../sources/server-sources';
import { uploadLimitsOf } from '../upload-limits';
import { parseInput, requireUid, type CallableRequest } from './callable';
import { assertAcceptsUploads } from './register-chunks';
import { BeginChunkUploadInput, CommitUploadInput } from '@lifeboat/protocol';

/**
 * Opens a resumable upload session for a registered chunk the server does not have yet. A chunk
 * whose bytes already arrived answers `uploadUrl: null` so a resuming device skips it.
 *
 * @throws LifeboatError `resource-exhausted` (`details.limit: 'openUploadSessions'`) when the user
 *   holds as many open sessions as `UploadLimits.openUploadSessions` allows (where the store counts them).
 */
export async function beginChunkUpload(
  request: CallableRequest,
  deps: EngineDeps,
): Promise<{ uploadUrl: string | null; expiresAt: number | null; state: ChunkState }> {
  const uid = requireUid(request);
  const { jobId, chunkId } = parseInput(BeginChunkUploadInput, request.data, 'beginChunkUpload');
  const job = assertOwner(await deps.store.getJob(jobId), uid, 'job', jobId);
  assertAcceptsUploads(job, 'beginChunkUpload');
  const [chunk] = await deps.store.runTransaction((tx) => tx.getChunks(jobId, [chunkId]));
  if (!chunk) throw lifeboatError('not-found', `chunk ${chunkId} is not registered on job ${jobId}`);
  if (chunk.state !== 'pending') return { uploadUrl: null, expiresAt: null, state: chunk.state };
  // The bytes arrived and wait for processing (the upload event writes nothing): nothing to send.
  if ((await deps.blobs.stat(uploadKey(uid, jobId, chunkId)))?.size === chunk.size) return { uploadUrl: null, expiresAt: null, state: 'uploaded' };
  // A store that keeps sessions returns the chunk's open one, and counts the user's against the
  // limit (docs/invariants.md, "Upload limits").
  const session = await deps.uploads.create(
    {
      key: uploadKey(uid, jobId, chunkId),
      size: chunk.size,
      sha256: chunkId,
      metadata: { lifeboat: 'chunk-upload', uid, jobId, chunkId },
      uid,
      jobId,
    },
    { maxOpenPerUser: uploadLimitsOf(deps).openUploadSessions, ...(request.origin ? { origin: request.origin } : {}) },
  );
  return { uploadUrl: session.url, expiresAt: session.expiresAt, state: 'pending' };
}

/**
 * The device has registered every chunk it will send. Idempotent: committing a committed job
 * returns it unchanged. Finalize follows once every chunk is processed.
 */
export async function commitUpload(request: CallableRequest, deps: EngineDeps): Promise<{ job: BackupJob }> {
  const uid = requireUid(request);
  const { jobId, chunkCount } = parseInput(CommitUploadInput, request.data, 'commitUpload');
  const owned = assertOwner(await deps.store.getJob(jobId), uid, 'job', jobId);
  // Counted from the registration itself, not the job's totals: a chunk registered in two calls
  // (the same file twice, a repeated call) counts once, as the device counts it.
  let registered = 0;
  if (!owned.uploadCommitted) {
    for await (const chunk of registeredChunks(deps.store, jobId)) if (chunk.index < SOURCE_CHUNK_INDEX_BASE) registered += 1;
  }
  const now = deps.clock.now();
  const job = await deps.store.runTransaction(async (tx) => {
    const current = await tx.getJob(jobId);
    if (!current) throw lifeboatError('not-found', `job ${jobId} does not exist`);
    if (current.uploadCommitted) return current;
    assertAcceptsUploads(current, 'commitUpload');
    if (chunkCount !== registered) {
      throw lifeboatError('failed-precondition', `commitUpload: ${chunkCount} chunks committed but ${registered} registered`, {
        details: { jobId, committed: chunkCount, registered },
      });
    }
    const next: BackupJob = {
      ...current,
      uploadCommitted: true,
      phase: current.status === 'running' ? 'processing' : current.phase,
      updatedAt: now,
      heartbeatAt: now,
    };
    tx.setJob(next);
    return next;
  });
  await maybeFinalize(deps, jobId);
  return { job };
}
