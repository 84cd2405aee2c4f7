import { chunkStrategyKey, isEndToEnd } from '../e2e-opaque';
import type { EngineDeps } from '../deps';
import { lifeboatError } from '../errors';
import { assertOwner } from '../jobs';
import { chunkIndexKey } from '../keys';
import type { BackupJob, BackupType, ChunkBatch, ChunkIndexEntry } from '../model';
import { sha256Hex } from '../hash';
import { registrationIndexBase } from '../sources/server-sources';
import { progressSums } from '../job-progress';
import { parseInput, requireUid, type CallableRequest } from './callable';
import { RegisterChunksInput, type ChunkDescriptor } from '@lifeboat/protocol';
import { RECIPE_TYPES } from '../steps/chunk-refs';
import { uploadLimitsOf } from '../upload-limits';
import { usableChunkIndex } from '../steps/usable-index-entries';
import { assertBytesPerJob } from '../user-quotas';

/** Statuses in which a device may still send chunks. */
export function assertAcceptsUploads(job: BackupJob, call: string): void {
  if (job.status !== 'queued' && job.status !== 'running') {
    throw lifeboatError('failed-precondition', `${call}: job ${job.id} is ${job.status}`, {
      details: { jobId: job.id, status: job.status },
    });
  }
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
  // The job is queued or running here, so the fence in usableChunkIndex (reuseChunkIndex) holds
  // off a GC run (docs/invariants.md, "Garbage collection") before index entries, and the blobs
  // they name, are reused. From here on GC defers to this job, so references found now are still
  // there when its chunks run. An entry whose result is gone counts as absent: the chunk is sent
  // again instead of the backup relying on nothing (docs/invariants.md, "Dedup").
  const all = [...unique.values()];
  const allEntries = await usableChunkIndex(deps, uid, all.map(keyOf));
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
    const found = await usableChunkIndex(deps, uid, referenced);
    const held = new Set(referenced.filter((_, j) => found[j]));
    for (const chunk of toCheck) if (chunk.refs?.some((r) => !held.has(keyFor(chunk.type, r)))) unresolved.add(chunk.id);
  }
  const chunks = all.filter((c) => !unresolved.has(c.id));
  if (chunks.length === 0) return { missing: [], known: [], unresolved: [...unresolved] };
  const indexEntries = all.flatMap((c, i) => (unresolved.has(c.id) ? [] : [allEntries[i] ?? null]));
  const ids = chunks.map((c) => c.id);
  const now = deps.clock.now();
  // The job's chunks so far, from its records and batches (no counter on the job to read).
  const { chunksPerJob } = uploadLimitsOf(deps);
  const sums = await progressSums(deps.store, job.id);
  const registeredSoFar = sums.known.chunks + Object.values(sums.chunks).reduce((n, s) => n + s.chunks, 0);
  const bytesSoFar = sums.known.bytes + Object.values(sums.chunks).reduce((n, s) => n + s.bytes, 0);

  return deps.store.runTransaction(async (tx) => {
    const current = await tx.getJob(job.id);
    const existing = await tx.getChunks(job.id, ids);
    if (!current) throw lifeboatError('not-found', `job ${job.id} does not exist`);
    assertAcceptsUploads(current, 'registerChunks');
    if (current.uploadCommitted) throw lifeboatError('failed-precondition', `registerChunks: job ${job.id} is already committed`);

    // Checked before anything is written, so a refused batch registers none of its chunks.
    const added = existing.filter((prior) => !prior).length;
    if (registeredSoFar + added > chunksPerJob) {
      throw lifeboatError('resource-exhausted', `registerChunks: job ${job.id} holds ${registeredSoFar} chunks and ${added} more would pass the limit of ${chunksPerJob} per job (chunksPerJob)`, {
        retryable: false,
        details: { limit: 'chunksPerJob', max: chunksPerJob, registered: registeredSoFar, requested: added },
      });
    }
    const missing: string[] = [];
    const known: string[] = [];
    let fresh: Array<{ chunk: ChunkDescriptor; entry: ChunkIndexEntry | null }> = [];
    chunks.forEach((chunk, i) => {
      const prior = existing[i];
      if (prior) {
        if (prior.type !== chunk.type || prior.size !== chunk.size) {
          throw lifeboatError('invalid-argument', `registerChunks: chunk ${chunk.id} was registered with another type or size`);
        }
        (prior.state === 'pending' ? missing : known).push(chunk.id);
        return;
      }
      fresh.push({ chunk, entry: indexEntries[i] ?? null });
    });
    // Known chunks get no record of their own: one batch per call names them (docs/invariants.md,
    // "Progress counters"), named by its content, so the same call made again finds its batch.
    const knownFresh = fresh.filter((f): f is { chunk: ChunkDescriptor; entry: ChunkIndexEntry } => f.entry !== null);
    const batchId = knownFresh.length === 0 ? null : sha256Hex(new TextEncoder().encode(JSON.stringify([job.id, knownFresh.map(({ chunk, entry }) => [chunk.id, chunk.type, chunk.size, chunk.items, entry.resultRef])])));
    if (batchId && (await tx.getChunkBatch(job.id, batchId))) {
      // A repeated call: its known chunks are registered already, with the places that batch holds.
      known.push(...knownFresh.map((f) => f.chunk.id));
      fresh = fresh.filter((f) => f.entry === null);
    }
    // After the repeat of a call is told apart (its chunks count once), before anything is written.
    assertBytesPerJob(deps, job.id, bytesSoFar, fresh.reduce((n, f) => n + f.chunk.size, 0));
    // Registration order without a counter on the job (which would take a write per call): a
    // device registers one call after the other, so the time of each call orders them.
    const base = registrationIndexBase(now);
    const batch: ChunkBatch['chunks'] = [];
    const totals = { chunks: 0, items: 0, skipped: 0, bytes: 0 };
    for (const [i, { chunk, entry }] of fresh.entries()) {
      const index = base + i;
      if (!entry) {
        tx.setChunk({
          jobId: job.id, uid, id: chunk.id, index, type: chunk.type, size: chunk.size, items: chunk.items, state: 'pending', deduplicated: false,
          uploadKey: null, resultRef: null, processedItems: 0, skippedItems: 0, storedBytes: 0, error: null, updatedAt: now,
        });
        missing.push(chunk.id);
        continue;
      }
      batch.push({
        id: chunk.id, index, type: chunk.type, size: chunk.size, items: chunk.items, resultRef: entry.resultRef,
        processedItems: entry.items, skippedItems: entry.skippedItems, ...(entry.stats ? { stats: entry.stats } : {}),
      });
      totals.chunks += 1;
      totals.items += entry.items;
      totals.skipped += entry.skippedItems;
      totals.bytes += chunk.size;
      known.push(chunk.id);
    }
    if (batchId && batch.length > 0) {
      tx.setChunkBatch({ id: batchId, jobId: job.id, uid, firstIndex: batch[0]?.index ?? base, chunks: batch, totals, createdAt: now });
    }
    return { missing, known, unresolved: [...unresolved] };
  });
}
