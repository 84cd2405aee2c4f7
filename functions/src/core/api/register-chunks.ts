import { chunkStrategyKey, isEndToEnd } from '../e2e-opaque';
import type { EngineDeps } from '../deps';
import { lifeboatError } from '../errors';
import { assertOwner } from '../jobs';
import { chunkIndexKey } from '../keys';
import { reuseChunkIndex } from '../snapshots/gc-lease';
import type { BackupJob, BackupType, ChunkIndexEntry, ChunkRecord, TypeProgress } from '../model';
import { parseInput, requireUid, type CallableRequest } from './callable';
import { RegisterChunksInput, type ChunkDescriptor } from './schemas';
import { RECIPE_TYPES } from '../steps/chunk-refs';
import { uploadLimitsOf } from '../upload-limits';

/** Statuses in which a device may still send chunks. */
export function assertAcceptsUploads(job: BackupJob, call: string): void {
  if (job.status !== 'queued' && job.status !== 'running') {
    throw lifeboatError('failed-precondition', `${call}: job ${job.id} is ${job.status}`, {
      details: { jobId: job.id, status: job.status },
    });
  }
}

function addType(progress: BackupJob['progress'], type: BackupType, delta: Partial<TypeProgress>): void {
  const current = progress.byType[type] ?? { items: 0, skipped: 0, bytes: 0 };
  progress.byType[type] = {
    items: current.items + (delta.items ?? 0),
    skipped: current.skipped + (delta.skipped ?? 0),
    bytes: current.bytes + (delta.bytes ?? 0),
  };
}

/**
 * "Which of these chunks do you already have?" Records the chunks on the job in the order given
 * and answers which the device must upload. A chunk this user already processed under the same
 * type and options is satisfied from the chunk index: marked processed and counted as
 * deduplicated, with no upload and no processing. Registering a chunk again is harmless.
 */
export async function registerChunks(
  request: CallableRequest,
  deps: EngineDeps,
): Promise<{ missing: string[]; known: string[]; unresolved: string[] }> {
  const uid = requireUid(request);
  const input = parseInput(RegisterChunksInput, request.data, 'registerChunks');
  const job = assertOwner(await deps.store.getJob(input.jobId), uid, 'job', input.jobId);
  assertAcceptsUploads(job, 'registerChunks');
  if (job.uploadCommitted) {
    throw lifeboatError('failed-precondition', `registerChunks: job ${job.id} is already committed`);
  }

  const unique = new Map<string, ChunkDescriptor>();
  for (const chunk of input.chunks) {
    if (!job.types.includes(chunk.type)) {
      throw lifeboatError('invalid-argument', `registerChunks: type ${chunk.type} is not part of job ${job.id}`);
    }
    if (chunk.refs && (!RECIPE_TYPES.has(chunk.type) || isEndToEnd(job.options))) {
      throw lifeboatError('invalid-argument', `registerChunks: chunk ${chunk.id}: only contacts and chats chunks of a job that is not end to end may refer to other chunks`);
    }
    const seen = unique.get(chunk.id);
    if (seen && (seen.type !== chunk.type || seen.size !== chunk.size)) {
      throw lifeboatError('invalid-argument', `registerChunks: chunk ${chunk.id} is given twice with different type or size`);
    }
    unique.set(chunk.id, chunk);
  }
  const keyFor = (type: BackupType, id: string) => {
    const strategy = deps.strategies[type];
    if (!strategy) throw lifeboatError('unimplemented', `no strategy for type ${type}`);
    return chunkIndexKey(type, chunkStrategyKey(strategy, job.options), id);
  };
  const keyOf = (c: ChunkDescriptor) => keyFor(c.type, c.id);
  // The job is queued or running here, so the fence in reuseChunkIndex holds off a GC run
  // (docs/invariants.md, "Garbage collection") before index entries, and the blobs they name, are
  // reused. From here on GC defers to this job, so references found now are still there when its
  // chunks run.
  const all = [...unique.values()];
  const allEntries = await reuseChunkIndex(deps, uid, all.map(keyOf));
  // A recipe chunk that is not already stored (in the index, or on this job) is registered only
  // if every chunk it refers to has a stored result under this job's key; else the device sends
  // the chunk whole (docs/invariants.md, "Dedup"). A stored recipe needs nothing it refers to:
  // its result already lists every record.
  const recipes = all.filter((c, i) => c.refs && !allEntries[i]);
  const onJob = recipes.length === 0 ? [] : await deps.store.runTransaction((tx) => tx.getChunks(job.id, recipes.map((c) => c.id)));
  const toCheck = recipes.filter((_, i) => !onJob[i]);
  const unresolved = new Set<string>();
  // A reference names a chunk of the recipe's own type.
  const referenced = [...new Set(toCheck.flatMap((c) => (c.refs ?? []).map((r) => keyFor(c.type, r))))];
  if (referenced.length > 0) {
    const found = await reuseChunkIndex(deps, uid, referenced);
    const held = new Set(referenced.filter((_, j) => found[j]));
    for (const chunk of toCheck) if (chunk.refs?.some((r) => !held.has(keyFor(chunk.type, r)))) unresolved.add(chunk.id);
  }
  const chunks = all.filter((c) => !unresolved.has(c.id));
  if (chunks.length === 0) return { missing: [], known: [], unresolved: [...unresolved] };
  const indexEntries = all.flatMap((c, i) => (unresolved.has(c.id) ? [] : [allEntries[i] ?? null]));
  const ids = chunks.map((c) => c.id);
  const now = deps.clock.now();

  return deps.store.runTransaction(async (tx) => {
    const current = await tx.getJob(job.id);
    const existing = await tx.getChunks(job.id, ids);
    if (!current) throw lifeboatError('not-found', `job ${job.id} does not exist`);
    assertAcceptsUploads(current, 'registerChunks');
    if (current.uploadCommitted) throw lifeboatError('failed-precondition', `registerChunks: job ${job.id} is already committed`);

    const progress = structuredClone(current.progress);
    // Checked before anything is written, so a refused batch registers none of its chunks.
    const { chunksPerJob } = uploadLimitsOf(deps);
    const added = existing.filter((prior) => !prior).length;
    if (progress.totalChunks + added > chunksPerJob) {
      throw lifeboatError('resource-exhausted', `registerChunks: job ${job.id} holds ${progress.totalChunks} chunks and ${added} more would pass the limit of ${chunksPerJob} per job (chunksPerJob)`, {
        retryable: false,
        details: { limit: 'chunksPerJob', max: chunksPerJob, registered: progress.totalChunks, requested: added },
      });
    }
    const missing: string[] = [];
    const known: string[] = [];
    chunks.forEach((chunk, i) => {
      const prior = existing[i];
      if (prior) {
        if (prior.type !== chunk.type || prior.size !== chunk.size) {
          throw lifeboatError('invalid-argument', `registerChunks: chunk ${chunk.id} was registered with another type or size`);
        }
        (prior.state === 'pending' ? missing : known).push(chunk.id);
        return;
      }
      const entry: ChunkIndexEntry | null = indexEntries[i] ?? null;
      const record: ChunkRecord = {
        jobId: job.id,
        uid,
        id: chunk.id,
        index: progress.totalChunks,
        type: chunk.type,
        size: chunk.size,
        items: chunk.items,
        state: entry ? 'processed' : 'pending',
        deduplicated: entry !== null,
        uploadKey: null,
        resultRef: entry?.resultRef ?? null,
        processedItems: entry?.items ?? 0,
        skippedItems: entry?.skippedItems ?? 0,
        storedBytes: 0,
        error: null,
        updatedAt: now,
      };
      tx.setChunk(record);
      progress.totalChunks += 1;
      progress.totalItems += chunk.items;
      progress.bytesTotal += chunk.size;
      if (entry) {
        progress.uploadedChunks += 1;
        progress.processedChunks += 1;
        progress.processedItems += entry.items;
        progress.skippedItems += entry.skippedItems;
        progress.bytesDeduplicated += chunk.size;
        addType(progress, chunk.type, { items: entry.items, skipped: entry.skippedItems, bytes: chunk.size });
        known.push(chunk.id);
      } else {
        missing.push(chunk.id);
      }
    });
    tx.setJob({ ...current, progress, updatedAt: now, heartbeatAt: now });
    return { missing, known, unresolved: [...unresolved] };
  });
}
