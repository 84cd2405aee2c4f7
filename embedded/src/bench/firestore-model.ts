/**
 * A cost model of the Firebase runtime, for the `scale` bench: wrappers that count what the engine
 * asks of its stores the way Firestore, Cloud Storage and Cloud Tasks would bill it. The engine
 * runs for real (the embedded adapters store the data); these only count.
 *
 * Model (Firestore "Storage size calculations", Cloud Storage and Cloud Tasks pricing pages):
 * - a committed transaction writes each document it sets, increments or deletes once (increments
 *   and sets of one document in one commit are one write); creates that find the document are
 *   not writes; reads are one per document read or returned by a query (at least one per query),
 *   and an aggregation query costs one read per 1000 index entries it scans (at least one);
 * - a document's stored size is its name (collection and document ids + 16) plus each field
 *   (name + 1, and the value: string UTF-8 + 1, number 8, boolean or null 1, map and array the
 *   sum of their parts) plus 32; each indexed leaf value adds two index entries (ascending and
 *   descending; one array-contains entry per array element) of the document name + the field
 *   name + the value + 32 bytes, except fields exempt from indexing (FIRESTORE_INDEX_EXEMPTIONS);
 * - Cloud Storage: one Class A operation per object written, Class B per read; bytes added are the
 *   stored bytes of objects created under `users/` (content, manifests; raw uploads are deleted);
 * - Cloud Tasks: one dispatch (and one function invocation) per task enqueued.
 */
import { override } from '@lifeboat/engine/core';
import type { BlobStore, ChunkTotals, JobStore, JobTransaction, TaskQueue } from '@lifeboat/engine/ports';
import { FIRESTORE_INDEX_EXEMPTIONS } from '@lifeboat/engine/adapters/firestore-layout';

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

function valueBytes(value: unknown): number {
  if (typeof value === 'string') return utf8(value) + 1;
  if (typeof value === 'number') return 8;
  if (value === null || typeof value === 'boolean' || value === undefined) return 1;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + valueBytes(v), 0);
  return Object.entries(value as Record<string, unknown>).reduce((n, [k, v]) => n + utf8(k) + 1 + valueBytes(v), 0);
}

const exempt = new Map<string, Set<string>>();
for (const e of FIRESTORE_INDEX_EXEMPTIONS) exempt.set(e.collectionGroup, (exempt.get(e.collectionGroup) ?? new Set()).add(e.fieldPath));

/** Bytes one index entry of `field` with `value` takes, for a document named `nameBytes`. */
function indexBytes(nameBytes: number, field: string, value: unknown, inArray: boolean): number {
  if (value !== null && typeof value === 'object') {
    if (Array.isArray(value)) return value.reduce((n: number, v) => n + indexBytes(nameBytes, field, v, true), 0);
    return Object.entries(value as Record<string, unknown>).reduce((n, [k, v]) => n + indexBytes(nameBytes, `${field}.${k}`, v, inArray), 0);
  }
  return (inArray ? 1 : 2) * (nameBytes + utf8(field) + 1 + valueBytes(value) + 32);
}

/** Stored bytes of one document (itself and its single-field index entries) at `path`. */
export function documentBytes(path: string, doc: Record<string, unknown>): number {
  const segments = path.split('/');
  const nameBytes = segments.reduce((n, s) => n + utf8(s) + 1, 0) + 16;
  const collection = segments[segments.length - 2] ?? '';
  const skip = exempt.get(collection) ?? new Set<string>();
  let bytes = nameBytes + valueBytes(doc) + 32;
  for (const [field, value] of Object.entries(doc)) if (!skip.has(field)) bytes += indexBytes(nameBytes, field, value, false);
  return bytes;
}

export interface Counts {
  writes: number;
  reads: number;
  deletes: number;
  /** Writes by collection. */
  writesBy: Record<string, number>;
  /** Class A (writes) and B (reads) Cloud Storage operations. */
  classA: number;
  classB: number;
  /** Bytes of objects created under `users/` (content-addressed blobs and manifests). */
  blobBytesAdded: number;
  tasks: number;
  /** When each write of a job document happened (ms), for its write rate. */
  jobWrites: number[];
}

export function emptyCounts(): Counts {
  return { writes: 0, reads: 0, deletes: 0, writesBy: {}, classA: 0, classB: 0, blobBytesAdded: 0, tasks: 0, jobWrites: [] };
}

/** Documents as the model stores them: path to size, so document bytes held is a sum at any time. */
export class FirestoreModel {
  readonly counts = emptyCounts();
  private readonly sizes = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Bytes of every document the model holds now. */
  heldBytes(): number {
    let n = 0;
    for (const s of this.sizes.values()) n += s;
    return n;
  }

  reset(): void {
    Object.assign(this.counts, emptyCounts());
  }

  private wrote(path: string, doc: object | null): void {
    const collection = path.split('/').at(-2) ?? '?';
    if (doc === null) {
      if (this.sizes.delete(path)) this.counts.deletes += 1;
      return;
    }
    this.counts.writes += 1;
    this.counts.writesBy[collection] = (this.counts.writesBy[collection] ?? 0) + 1;
    if (collection === 'backupJobs') this.counts.jobWrites.push(this.now());
    this.sizes.set(path, documentBytes(path, doc as Record<string, unknown>));
  }

  private read(n: number): void {
    this.counts.reads += Math.max(1, n);
  }

  /** The JobStore, counted. */
  jobStore(store: JobStore): JobStore {
    const model = this;
    return override(store, {
      async createJob(job, options) {
        const result = await store.createJob(job, options);
        if (result.created) model.wrote(`backupJobs/${job.id}`, job);
        return result;
      },
      async getJob(jobId, options) {
        model.read(1);
        return store.getJob(jobId, options);
      },
      async listJobs(query, options) {
        const page = await store.listJobs(query, options);
        model.read(page.items.length);
        return page;
      },
      async listChunks(jobId, query, options) {
        const page = await store.listChunks(jobId, query, options);
        model.read(page.items.length);
        return page;
      },
      async listChunkBatches(jobId, query, options) {
        const page = await store.listChunkBatches(jobId, query, options);
        model.read(page.items.length);
        return page;
      },
      async chunkTotals(jobId, options): Promise<ChunkTotals> {
        const totals = await store.chunkTotals(jobId, options);
        // One aggregation query per state, one read per 1000 index entries it scans.
        for (const state of Object.values(totals)) model.read(Math.ceil(state.chunks / 1000));
        return totals;
      },
      async deleteJobChunks(jobId, limit, options) {
        const before = [...model.sizes.keys()].filter((p) => p.startsWith(`backupJobs/${jobId}/`));
        const result = await store.deleteJobChunks(jobId, limit, options);
        model.read(result.deleted);
        // Which ones went is the store's business: the model drops as many, oldest first.
        for (const path of before.slice(0, result.deleted)) model.wrote(path, null);
        return result;
      },
      async getChunkIndex(uid, keys, options) {
        model.read(keys.length);
        return store.getChunkIndex(uid, keys, options);
      },
      async putChunkIndex(entry, options) {
        const result = await store.putChunkIndex(entry, options);
        if (result.created) model.wrote(`users/${entry.uid}/chunkIndex/${entry.key}`, entry);
        return result;
      },
      async listChunkIndex(query, options) {
        const page = await store.listChunkIndex(query, options);
        model.read(page.items.length);
        return page;
      },
      async deleteChunkIndex(uid, keys, options) {
        await store.deleteChunkIndex(uid, keys, options);
        for (const key of keys) model.wrote(`users/${uid}/chunkIndex/${key}`, null);
      },
      async getSnapshot(id, options) {
        model.read(1);
        return store.getSnapshot(id, options);
      },
      async listSnapshots(query, options) {
        const page = await store.listSnapshots(query, options);
        model.read(page.items.length);
        return page;
      },
      async getSchedule(id, options) {
        model.read(1);
        return store.getSchedule(id, options);
      },
      async listSchedules(uid, options) {
        const list = await store.listSchedules(uid, options);
        model.read(list.length);
        return list;
      },
      async listDueSchedules(query, options) {
        const list = await store.listDueSchedules(query, options);
        model.read(list.length);
        return list;
      },
      async runTransaction(fn, options) {
        let pending = new Map<string, object | null>();
        let reads = 0;
        const jobsSet = new Map<string, object>();
        const result = await store.runTransaction(async (tx) => {
          // A re-run transaction starts over: only the last run's writes are committed.
          pending = new Map();
          reads = 0;
          const counted = override<JobTransaction>(tx, {
            getJob: async (id) => {
              reads += 1;
              const job = await tx.getJob(id);
              if (job) jobsSet.set(id, job);
              return job;
            },
            getChunks: async (jobId, ids) => {
              reads += ids.length;
              return tx.getChunks(jobId, ids);
            },
            getSnapshot: async (id) => {
              reads += 1;
              return tx.getSnapshot(id);
            },
            getSchedule: async (id) => {
              reads += 1;
              return tx.getSchedule(id);
            },
            getChunkBatch: async (jobId, id) => {
              reads += 1;
              return tx.getChunkBatch(jobId, id);
            },
            setJob: (job) => { pending.set(`backupJobs/${job.id}`, job); tx.setJob(job); },
            incrementJob: (jobId, deltas, touch) => { pending.set(`backupJobs/${jobId}`, pending.get(`backupJobs/${jobId}`) ?? jobsSet.get(jobId) ?? { id: jobId }); tx.incrementJob(jobId, deltas, touch); },
            setChunk: (chunk) => { pending.set(`backupJobs/${chunk.jobId}/chunks/${chunk.id}`, chunk); tx.setChunk(chunk); },
            setChunkBatch: (batch) => { pending.set(`backupJobs/${batch.jobId}/chunkBatches/${batch.id}`, batch); tx.setChunkBatch(batch); },
            setSnapshot: (snapshot) => { pending.set(`snapshots/${snapshot.id}`, snapshot); tx.setSnapshot(snapshot); },
            setSchedule: (schedule) => { pending.set(`schedules/${schedule.id}`, schedule); tx.setSchedule(schedule); },
            deleteSchedule: (id) => { pending.set(`schedules/${id}`, null); tx.deleteSchedule(id); },
            deleteSnapshot: (id) => { pending.set(`snapshots/${id}`, null); tx.deleteSnapshot(id); },
          });
          return fn(counted);
        }, options);
        model.counts.reads += reads;
        for (const [path, doc] of pending) model.wrote(path, doc);
        return result;
      },
    });
  }

  /** The BlobStore, counted as Cloud Storage operations. */
  blobStore(blobs: BlobStore): BlobStore {
    const counts = this.counts;
    return override(blobs, {
      async put(key, body, options) {
        const result = await blobs.put(key, body, options);
        counts.classA += 1;
        if (result.created && key.startsWith('users/')) counts.blobBytesAdded += result.size;
        return result;
      },
      async get(key, options) {
        counts.classB += 1;
        return blobs.get(key, options);
      },
      async stat(key, options) {
        counts.classB += 1;
        return blobs.stat(key, options);
      },
      async exists(key, options) {
        counts.classB += 1;
        return blobs.exists(key, options);
      },
      list(prefix, options) {
        counts.classA += 1;
        return blobs.list(prefix, options);
      },
    });
  }

  /** The TaskQueue, counted as Cloud Tasks dispatches. */
  taskQueue(queue: TaskQueue): TaskQueue {
    const counts = this.counts;
    return {
      async enqueue(name, payload, options) {
        const result = await queue.enqueue(name, payload, options);
        if (result.enqueued) counts.tasks += 1;
        return result;
      },
    };
  }
}

/** The most job-document writes in any window of `windowMs`, per second. */
export function peakRate(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while ((sorted[end] as number) - (sorted[start] as number) >= windowMs) start += 1;
    best = Math.max(best, end - start + 1);
  }
  return best / (windowMs / 1000);
}
