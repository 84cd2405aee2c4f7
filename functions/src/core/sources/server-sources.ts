/**
 * Server-side sources: data that already lives in the app's store (chats today), read by the
 * server in pages while the device uploads the rest. A job needs a source when its options ask
 * for it; finalize waits until every source the job needs has been read to its end.
 *
 * Reading starts once the device has committed its upload (see startServerSources). Each page is
 * persisted before the next page's task is enqueued: its cursor and chunk go to a
 * small state blob (`uploads/{uid}/{jobId}/source-{name}/page-{n}`, create-if-absent), and its
 * messages to a chunk processed like an uploaded one. A crash at any point resumes from the last
 * persisted page; a repeated page task re-uses its state instead of reading again.
 */
import { z } from 'zod';
import type { BlobStore, TaskQueue } from '../../ports';
import { uploadPrefix } from '../keys';
import type { BackupJob } from '../model';
import { Sha256Hex } from '../model';
import { readStoredJson } from '../stored-json';

export const SOURCE_NAMES = ['chats'] as const;
export const SourceName = z.enum(SOURCE_NAMES);
export type SourceName = z.infer<typeof SourceName>;

/** Messages per page. @default 500 */
export const DEFAULT_SOURCE_PAGE_SIZE = 500;

/**
 * Chunks read from a source sort after the device's in the manifest; the chunk index base keeps
 * them apart without reading the job for its chunk count. Device chunks are indexed by the time
 * of their registration call (`registrationIndexBase`), about 1.8e15 today, far below it, and
 * both stay safe integers.
 */
export const SOURCE_CHUNK_INDEX_BASE = 8_000_000_000_000_000;

/** The first index of a registration call's chunks: its time, with room for 1024 chunks a call. */
export function registrationIndexBase(now: number): number {
  return now * 1024;
}

/** The sources a job needs, from options that never change during the job. */
export function requiredSources(job: Pick<BackupJob, 'types' | 'options'>): SourceName[] {
  return job.options.serverChats && job.types.includes('chats') ? ['chats'] : [];
}

/** True once every source the job needs has been read to its end. */
export function sourcesFinished(job: Pick<BackupJob, 'types' | 'options' | 'sourcesDone'>): boolean {
  return requiredSources(job).every((s) => job.sourcesDone?.includes(s) === true);
}

/** What a page task persisted: the cursor of the next page and the chunk holding this one. */
export const PageState = z.object({
  page: z.number().int().nonnegative(),
  /** Null for an empty page. */
  chunkId: Sha256Hex.nullable(),
  size: z.number().int().nonnegative(),
  items: z.number().int().nonnegative(),
  /** Absent on the last page. */
  nextCursor: z.string().optional(),
});
export type PageState = z.infer<typeof PageState>;

export function pageStatePrefix(uid: string, jobId: string, source: SourceName): string {
  return `${uploadPrefix(uid, jobId)}source-${source}/`;
}

export function pageStateKey(uid: string, jobId: string, source: SourceName, page: number): string {
  return `${pageStatePrefix(uid, jobId, source)}page-${page}`;
}

export function readPageState(blobs: BlobStore, key: string): Promise<PageState | null> {
  return readStoredJson(blobs, key, PageState, `page state ${key} is corrupt`);
}

/** Task ids derived from the work: `{jobId}_source_{name}_{page}_{attempt}`. */
export function sourcePageTaskId(jobId: string, source: SourceName, page: number, attempt: number): string {
  return `${jobId}_source_${source}_${page}_${attempt}`;
}

/**
 * Starts the sources a committed, running job still needs, at page 0. Sources start after the
 * device's commit, so their chunks never count against the device's `chunkCount`. On a retried
 * job (new attempt, new task ids) page 0 replays the persisted pages from their states, without
 * reading them again, and reading continues after the last one.
 *
 * Called wherever finalize may be due (maybeFinalize, once per processed chunk). A marker blob
 * per attempt, written after the enqueue, turns the later calls into one existence check and
 * keeps them from depending on the queue's dedup ids (Cloud Tasks forgets them after an hour);
 * a crash between the enqueue and the marker only means one more (idempotent) enqueue.
 */
export async function startServerSources(deps: { queue: TaskQueue; blobs: BlobStore }, job: BackupJob): Promise<void> {
  if (job.status !== 'running' || !job.uploadCommitted) return;
  for (const source of requiredSources(job)) {
    if (job.sourcesDone?.includes(source)) continue;
    const marker = `${pageStatePrefix(job.uid, job.id, source)}started-${job.attempts}`;
    if (await deps.blobs.exists(marker)) continue;
    await deps.queue.enqueue('sourcePage', { jobId: job.id, source, page: 0 }, { id: sourcePageTaskId(job.id, source, 0, job.attempts) });
    await deps.blobs.put(marker, new Uint8Array(), { ifAbsent: true });
  }
}
