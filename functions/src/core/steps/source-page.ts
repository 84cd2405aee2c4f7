import type { TaskContext } from '../../ports';
import { chunkIndexKey, uploadKey } from '../keys';
import type { EngineDeps } from '../deps';
import { lifeboatError } from '../errors';
import { sha256Hex } from '../hash';
import type { BackupJob, ChunkRecord } from '../model';
import { serializeRecord, skippedRecordJson } from '../record-limits';
import {
  DEFAULT_SOURCE_PAGE_SIZE, PageState, SOURCE_CHUNK_INDEX_BASE, pageStateKey, readPageState, sourcePageTaskId, type SourceName,
} from '../sources/server-sources';
import { processChunkTaskId } from '../task-ids';
import { usableChunkIndex } from './usable-index-entries';
import { maybeFinalize } from './maybe-finalize';

/** Reads page `n` from the source and persists it: its bytes as a chunk upload, then its state. */
async function readPage(deps: EngineDeps, job: BackupJob, source: SourceName, page: number, signal?: AbortSignal): Promise<PageState> {
  const chatSource = deps.chatSource;
  if (!chatSource) {
    throw lifeboatError('failed-precondition', 'serverChats was asked for but this server has no chat source configured', { retryable: false });
  }
  let after: string | undefined;
  if (page > 0) {
    const previous = await readPageState(deps.blobs, pageStateKey(job.uid, job.id, source, page - 1));
    // Page n is only ever enqueued after page n-1's state is written.
    if (!previous?.nextCursor) throw lifeboatError('failed-precondition', `page ${page - 1} of ${source} is not persisted`, { retryable: false });
    after = previous.nextCursor;
  }
  const result = await chatSource.listMessages(job.uid, {
    limit: deps.chatSourcePageSize ?? DEFAULT_SOURCE_PAGE_SIZE,
    ...(after !== undefined ? { after } : {}),
    ...(signal ? { signal } : {}),
  });
  // A message over the record limits goes as its `$skipped` stand-in: the chats strategy records
  // it as skipped, and the page (and the job) go on (core/record-limits.ts).
  const lines = result.messages.map((m) => {
    const line = serializeRecord(m);
    return `${line.ok ? line.json : skippedRecordJson(m, line.reason, ['id', 'conversationId'])}\n`;
  });
  const bytes = new TextEncoder().encode(lines.join(''));
  const chunkId = result.messages.length > 0 ? sha256Hex(bytes) : null;
  if (chunkId) await deps.blobs.put(uploadKey(job.uid, job.id, chunkId), bytes, { ifAbsent: true });
  const state: PageState = {
    page,
    chunkId,
    size: bytes.byteLength,
    items: result.messages.length,
    ...(result.nextCursor !== undefined ? { nextCursor: result.nextCursor } : {}),
  };
  const key = pageStateKey(job.uid, job.id, source, page);
  const written = await deps.blobs.put(key, new TextEncoder().encode(JSON.stringify(state)), { ifAbsent: true });
  if (written.created) return state;
  // A concurrent run persisted this page first: its state (and its chunk, written before it) wins.
  return (await readPageState(deps.blobs, key)) ?? state;
}

/**
 * Registers a page's chunk on the job (its record, create-if-absent) and enqueues its
 * processing; a chunk this user already processed under the same options is satisfied from the
 * chunk index, as a device's would be.
 */
async function registerPageChunk(deps: EngineDeps, job: BackupJob, source: SourceName, state: PageState): Promise<void> {
  const { chunkId } = state;
  if (!chunkId) return;
  const strategy = deps.strategies[source];
  if (!strategy) throw lifeboatError('unimplemented', `no strategy for type ${source}`, { retryable: false });
  // The job is running here, so the fence holds off GC before the entry is reused; an entry whose
  // result is gone counts as absent, and the page's chunk is processed again.
  const [found] = await usableChunkIndex(deps, job.uid, [chunkIndexKey(source, strategy.strategyKey(job.options), chunkId)]);
  const entry = found ?? null;
  const now = deps.clock.now();
  const record = await deps.store.runTransaction(async (tx) => {
    const [existing] = await tx.getChunks(job.id, [chunkId]);
    if (existing) return existing;
    const chunk: ChunkRecord = {
      jobId: job.id, uid: job.uid, id: chunkId, index: SOURCE_CHUNK_INDEX_BASE + state.page, type: source,
      size: state.size, items: state.items, state: entry ? 'processed' : 'uploaded', deduplicated: entry !== null,
      uploadKey: entry ? null : uploadKey(job.uid, job.id, chunkId), resultRef: entry?.resultRef ?? null,
      processedItems: entry?.items ?? 0, skippedItems: entry?.skippedItems ?? 0, storedBytes: 0, error: null, updatedAt: now,
      ...(entry?.stats ? { stats: entry.stats } : {}),
    };
    // The record is the registration: the job's progress counts it from there.
    tx.setChunk(chunk);
    return chunk;
  });
  if (record.state === 'uploaded') {
    await deps.queue.enqueue('processChunk', { jobId: job.id, chunkId }, { id: processChunkTaskId(job.id, chunkId, job.attempts) });
  }
}

/**
 * One page of a server-side source: read (or re-use the persisted) page `n`, register its chunk,
 * then enqueue page `n + 1`, or mark the source done and let finalize run. Safe to run twice: the
 * page state and the chunk are create-if-absent, and task ids derive from job, page and attempt.
 */
export async function sourcePage(deps: EngineDeps, jobId: string, source: SourceName, page: number, context?: TaskContext): Promise<void> {
  const job = await deps.store.getJob(jobId);
  if (!job) throw lifeboatError('not-found', 'job does not exist', { retryable: false });
  // Only a started job reads; a failed one resumes from its persisted pages when retried.
  if (job.status !== 'running' && job.status !== 'paused') return;
  if (job.sourcesDone?.includes(source)) return;
  const state = (await readPageState(deps.blobs, pageStateKey(job.uid, jobId, source, page))) ?? (await readPage(deps, job, source, page, context?.signal));
  await registerPageChunk(deps, job, source, state);
  if (state.nextCursor !== undefined) {
    await deps.queue.enqueue('sourcePage', { jobId, source, page: page + 1 }, { id: sourcePageTaskId(jobId, source, page + 1, job.attempts) });
    return;
  }
  const now = deps.clock.now();
  await deps.store.runTransaction(async (tx) => {
    const current = await tx.getJob(jobId);
    if (!current || current.sourcesDone?.includes(source)) return;
    tx.setJob({ ...current, sourcesDone: [...(current.sourcesDone ?? []), source], updatedAt: now, heartbeatAt: now });
  });
  await maybeFinalize(deps, jobId);
}
