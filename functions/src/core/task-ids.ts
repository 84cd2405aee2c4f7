/**
 * Task ids derived from the work, so a repeated enqueue of the same work is deduplicated by the
 * queue. Cloud Tasks ids allow only `[A-Za-z0-9_-]`, hence `_` where the design writes `:`.
 */
export function kickoffTaskId(jobId: string, attempt: number): string {
  return `${jobId}_kickoff_${attempt}`;
}

/** Keyed by attempt too: a retried job re-enqueues the chunks its failed run left unprocessed. */
export function processChunkTaskId(jobId: string, chunkId: string, attempt: number): string {
  return `${jobId}_${chunkId}_process_${attempt}`;
}

/** Keyed by attempt so a failed job that is retried can finalize again within the dedup window. */
export function finalizeTaskId(jobId: string, attempt: number): string {
  return `${jobId}_finalize_${attempt}`;
}
