import type { EngineDeps } from '../deps';
import { uploadKey } from '../keys';
import type { BackupJob, ChunkRecord } from '../model';

/**
 * Where a chunk's raw bytes are: the record's `uploadKey` (server-side source pages), else the
 * job's upload key for it (device uploads land there; the upload event writes nothing).
 */
export function uploadKeyOf(job: Pick<BackupJob, 'uid' | 'id'>, chunk: Pick<ChunkRecord, 'id' | 'uploadKey'>): string {
  return chunk.uploadKey ?? uploadKey(job.uid, job.id, chunk.id);
}

/**
 * The job's chunks whose bytes are on the server but which are not processed: `uploaded` records,
 * and `pending` ones whose upload object is there (an upload event enqueues processing without
 * writing the record, so a lost event or a dead worker leaves it pending). Kickoff of a retried
 * job and the stale-job sweeper enqueue their processing again.
 */
export async function* chunksAwaitingProcessing(deps: Pick<EngineDeps, 'store' | 'blobs'>, job: BackupJob): AsyncGenerator<ChunkRecord> {
  let cursor: string | undefined;
  do {
    const page = await deps.store.listChunks(job.id, { limit: 500, ...(cursor ? { cursor } : {}) });
    for (const chunk of page.items) {
      if (chunk.state === 'uploaded') yield chunk;
      else if (chunk.state === 'pending' && (await deps.blobs.exists(uploadKeyOf(job, chunk)))) yield chunk;
    }
    cursor = page.nextCursor;
  } while (cursor);
}
