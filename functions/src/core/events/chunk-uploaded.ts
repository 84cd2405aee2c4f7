import type { EngineDeps } from '../deps';
import { uploadKey } from '../keys';
import { processChunkTaskId } from '../task-ids';

/** What the runtime knows when an upload completes (object metadata on Firebase). */
export interface ChunkUploadedEvent {
  uid: string;
  jobId: string;
  chunkId: string;
  /** Blob key of the uploaded bytes. */
  key: string;
  size: number;
}

/**
 * "A chunk's bytes arrived" (onObjectFinalized on Firebase, the upload endpoint embedded): enqueue
 * its processing. Nothing is written: the object itself says the bytes are there
 * (`chunksAwaitingProcessing`), processing moves the chunk's record, and progress counts
 * processed chunks, so an upload costs no document write. Idempotent: the task id derives from
 * job, chunk and attempt, and processing a processed chunk changes nothing.
 */
export async function onChunkUploaded(deps: EngineDeps, event: ChunkUploadedEvent): Promise<void> {
  const job = await deps.store.getJob(event.jobId);
  if (!job || job.uid !== event.uid || event.key !== uploadKey(job.uid, job.id, event.chunkId)) {
    deps.logger.warn('upload for an unknown job or chunk ignored', { ...event });
    return;
  }
  // The task is named by the run that will process the chunk: before kickoff (a queued job, or one
  // paused before it started) that is the next run, which is what kickoff and the sweeper's
  // reconciliation name it by too, so none of them doubles it.
  const attempt = job.status === 'queued' || job.attempts === 0 ? job.attempts + 1 : job.attempts;
  await deps.queue.enqueue('processChunk', { jobId: event.jobId, chunkId: event.chunkId }, { id: processChunkTaskId(event.jobId, event.chunkId, attempt) });
}
