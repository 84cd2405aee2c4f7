import { override } from '@lifeboat/engine/core';
import type { JobStore, JobTransaction } from '@lifeboat/engine/ports';

/** Document writes by kind, as Firestore would bill them. */
export interface WriteCounts {
  jobs: number;
  chunks: number;
  chunkIndex: number;
  snapshots: number;
  total: number;
}

/**
 * Wraps a JobStore and counts the document writes that reach it (committed transaction writes,
 * creates, index entries), so the bench can show that writes grow with chunks, not items.
 */
export function countingJobStore(store: JobStore): { store: JobStore; counts: WriteCounts; reset(): void } {
  const counts: WriteCounts = { jobs: 0, chunks: 0, chunkIndex: 0, snapshots: 0, total: 0 };
  const add = (kind: Exclude<keyof WriteCounts, 'total'>, n = 1) => {
    counts[kind] += n;
    counts.total += n;
  };
  const wrapped = override(store, {
    async createJob(job, options) {
      const result = await store.createJob(job, options);
      if (result.created) add('jobs');
      return result;
    },
    async putChunkIndex(entry, options) {
      const result = await store.putChunkIndex(entry, options);
      if (result.created) add('chunkIndex');
      return result;
    },
    async runTransaction(fn, options) {
      let pending: Array<Exclude<keyof WriteCounts, 'total'>> = [];
      const result = await store.runTransaction(async (tx) => {
        // A re-run transaction starts over: only the last run's writes are committed.
        pending = [];
        const counted = override<JobTransaction>(tx, {
          setJob: (job) => { pending.push('jobs'); tx.setJob(job); },
          incrementJob: (jobId, deltas, touch) => { pending.push('jobs'); tx.incrementJob(jobId, deltas, touch); },
          setChunk: (chunk) => { pending.push('chunks'); tx.setChunk(chunk); },
          setSnapshot: (snapshot) => { pending.push('snapshots'); tx.setSnapshot(snapshot); },
          deleteSnapshot: (id) => { pending.push('snapshots'); tx.deleteSnapshot(id); },
        });
        return fn(counted);
      }, options);
      for (const kind of pending) add(kind);
      return result;
    },
  });
  return {
    store: wrapped,
    counts,
    reset() {
      counts.jobs = counts.chunks = counts.chunkIndex = counts.snapshots = counts.total = 0;
    },
  };
}
