import type { StaleJobFinder } from '../../src/core/steps/sweep-stale-jobs';
import type { JobStore } from '../../src/ports';

/**
 * The sweeper's cross-user query over any JobStore, by listing the jobs of known users (the ports
 * have no cross-user listing; Firestore and SQLite answer it with one query each).
 */
export function listingStaleJobFinder(store: JobStore, uids: () => readonly string[]): StaleJobFinder {
  return async ({ statuses, updatedBefore, limit }) => {
    const stale: Array<{ id: string; updatedAt: number }> = [];
    for (const uid of uids()) {
      let cursor: string | undefined;
      do {
        const page = await store.listJobs({ uid, limit: 100, ...(cursor ? { cursor } : {}) });
        for (const job of page.items) {
          if (statuses.includes(job.status) && job.updatedAt < updatedBefore) stale.push(job);
        }
        cursor = page.nextCursor;
      } while (cursor);
    }
    return stale.sort((a, b) => a.updatedAt - b.updatedAt).slice(0, limit).map((j) => j.id);
  };
}
