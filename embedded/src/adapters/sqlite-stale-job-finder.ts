/**
 * The stale-job sweeper's one cross-user query (core/steps/sweep-stale-jobs.ts) over the embedded
 * job store's table: jobs in some statuses last updated before a time, oldest first. The same
 * query Firestore answers with its (status, updatedAt) index; here an index on the document's
 * `updatedAt` serves it.
 */
import { lifeboatError, type StaleJobFinder } from '@lifeboat/engine/core';
import { migrate, type Database } from './sqlite-database';

const UPDATED_AT = "json_extract(doc, '$.updatedAt')";

export function sqliteStaleJobFinder(db: Database): StaleJobFinder {
  migrate(db, 'stale-job-finder/1', [`CREATE INDEX jobs_by_status_updated ON jobs (status, ${UPDATED_AT})`]);
  return async ({ statuses, updatedBefore, limit }) => {
    if (statuses.length === 0) return [];
    if (!Number.isInteger(limit) || limit < 1) throw lifeboatError('invalid-argument', `limit must be a positive integer, got ${limit}`);
    const rows = db
      .prepare(`SELECT id FROM jobs WHERE status IN (${statuses.map(() => '?').join(', ')}) AND ${UPDATED_AT} < ? ORDER BY ${UPDATED_AT}, id LIMIT ?`)
      .all(...statuses, updatedBefore, limit) as { id: string }[];
    return rows.map((r) => r.id);
  };
}
