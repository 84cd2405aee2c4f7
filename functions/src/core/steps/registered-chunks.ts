import type { JobStore } from '../../ports';
import type { ChunkRecord } from '../model';

/** A chunk of a job as registration left it: a record (uploaded or processed by this job) or a batch entry (known). */
export interface RegisteredChunk extends Pick<ChunkRecord, 'id' | 'index' | 'type' | 'size' | 'items' | 'resultRef' | 'processedItems' | 'skippedItems' | 'storedBytes' | 'stats' | 'state'> {
  /** Satisfied from the chunk index at registration: never uploaded nor processed by this job. */
  known: boolean;
  /** A chunk record (not a batch entry) of a chunk the index already had (server-side source pages, older registrations). */
  deduplicated: boolean;
}

async function* records(store: JobStore, jobId: string): AsyncGenerator<RegisteredChunk> {
  let cursor: string | undefined;
  do {
    const page = await store.listChunks(jobId, { limit: 500, ...(cursor ? { cursor } : {}) });
    for (const c of page.items) yield { ...c, known: false };
    cursor = page.nextCursor;
  } while (cursor);
}

async function* batched(store: JobStore, jobId: string): AsyncGenerator<RegisteredChunk> {
  let cursor: string | undefined;
  do {
    const page = await store.listChunkBatches(jobId, { limit: 20, ...(cursor ? { cursor } : {}) });
    for (const batch of page.items) {
      for (const c of batch.chunks) yield { ...c, storedBytes: 0, state: 'processed', known: true, deduplicated: true };
    }
    cursor = page.nextCursor;
  } while (cursor);
}

/**
 * Every chunk registered on a job, in registration order: its chunk records and its registration
 * batches merged by index (a batch's entries are in index order, batches by their first index,
 * and batches of one job never interleave: each call's indexes follow the previous call's). A chunk registered twice (in two calls) comes once, at its first place.
 * Memory: one page of each, and the ids seen.
 */
export async function* registeredChunks(store: JobStore, jobId: string): AsyncGenerator<RegisteredChunk> {
  const seen = new Set<string>();
  const a = records(store, jobId);
  const b = batched(store, jobId);
  let x = await a.next();
  let y = await b.next();
  while (!x.done || !y.done) {
    let next: RegisteredChunk;
    if (y.done || (!x.done && x.value.index <= y.value.index)) {
      next = x.value as RegisteredChunk;
      x = await a.next();
    } else {
      next = y.value;
      y = await b.next();
    }
    if (seen.has(next.id)) continue;
    seen.add(next.id);
    yield next;
  }
}
