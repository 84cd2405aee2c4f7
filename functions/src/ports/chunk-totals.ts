/** What `JobStore.chunkTotals` answers, built the same way by every store that sums in code. */
import { CHUNK_STATES, type ChunkBatch, type ChunkRecord } from '../core/model';
import type { ChunkTotals, KnownTotals } from './job-store';

export function emptyChunkTotals(): ChunkTotals {
  return Object.fromEntries(CHUNK_STATES.map((state) => [state, { chunks: 0, items: 0, bytes: 0, processedItems: 0, skippedItems: 0, storedBytes: 0 }])) as ChunkTotals;
}

/** Sums chunk records by state. */
export function sumChunkTotals(chunks: Iterable<Pick<ChunkRecord, 'state' | 'size' | 'items' | 'processedItems' | 'skippedItems' | 'storedBytes'>>): ChunkTotals {
  const totals = emptyChunkTotals();
  for (const chunk of chunks) {
    const t = totals[chunk.state];
    t.chunks += 1;
    t.items += chunk.items;
    t.bytes += chunk.size;
    t.processedItems += chunk.processedItems;
    t.skippedItems += chunk.skippedItems;
    t.storedBytes += chunk.storedBytes;
  }
  return totals;
}

/** Sums the totals of registration batches. */
export function sumKnownTotals(batches: Iterable<Pick<ChunkBatch, 'totals'>>): KnownTotals {
  const out = { chunks: 0, items: 0, skipped: 0, bytes: 0 };
  for (const { totals } of batches) {
    out.chunks += totals.chunks;
    out.items += totals.items;
    out.skipped += totals.skipped;
    out.bytes += totals.bytes;
  }
  return out;
}
