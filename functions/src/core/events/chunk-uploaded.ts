import type { EngineDeps } from '../deps';
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
 * "A chunk's bytes arrived" (onObjectFinalized on Firebase, the upload endpoint embedded): mark
 * the chunk uploaded, count its bytes and enqueue its processing. Idempotent: the counters move
 * only with the `pending -> uploaded` change, and the processing task is enqueued again with the
 * same id on a repeated event (in case the first enqueue was lost after the transaction).
 */
export async function onChunkUploaded(deps: EngineDeps, event: ChunkUploadedEvent): Promise<void> {
  const now = deps.clock.now();
  const state = await deps.store.runTransaction(async (tx) => {
    const job = await tx.getJob(event.jobId);
    const [chunk] = await tx.getChunks(event.jobId, [event.chunkId]);
    if (!job || !chunk || job.uid !== event.uid) return { state: 'unknown' as const, attempt: 0 };
    // The task is named by the run that will process the chunk: before kickoff (a queued job, or
    // one paused before it started) that is the next run, which is what kickoff and the sweeper's
    // reconciliation name it by too, so none of them doubles it.
    const attempt = job.status === 'queued' || job.attempts === 0 ? job.attempts + 1 : job.attempts;
    if (chunk.state !== 'pending') return { state: chunk.state, attempt };
    tx.setChunk({ ...chunk, state: 'uploaded', uploadKey: event.key, updatedAt: now });
    tx.incrementJob(
      event.jobId,
      { counters: { uploadedChunks: 1, bytesUploaded: event.size } },
      { updatedAt: now, heartbeatAt: now },
    );
    return { state: 'uploaded' as const, attempt };
  });
  if (state.state === 'unknown') {
    deps.logger.warn('upload for an unknown job or chunk ignored', { ...event });
    return;
  }
  if (state.state === 'uploaded') {
    await deps.queue.enqueue(
      'processChunk',
      { jobId: event.jobId, chunkId: event.chunkId },
      { id: processChunkTaskId(event.jobId, event.chunkId, state.attempt) },
    );
  }
}
