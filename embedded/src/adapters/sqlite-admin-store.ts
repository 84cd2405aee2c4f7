/**
 * The AdminStore on the embedded runtime's SQLite file: the job store's `jobs` and `snapshots`
 * tables read across users, and a table of queue samples of its own. Every filter is served in
 * SQL, so a page is always full unless it is the last.
 */
import { BackupJob, QueueSampleSchema, Snapshot, type JobStatus } from '@lifeboat/engine/core';
import {
  checkPageLimit,
  decodePageCursor,
  encodePageCursor,
  throwIfAborted,
  type AdminJobsQuery,
  type AdminSnapshotsQuery,
  type AdminStore,
  type AdminUsersQuery,
  type CallOptions,
  decodeUserCursor,
  encodeUserCursor,
  type Page,
  type QueueSample,
} from '@lifeboat/engine/ports';
import type { z } from 'zod';
import { migrate, type Database } from './sqlite-database';
import { fromRow } from './sqlite-documents';
import { SqliteJobStore } from './sqlite-job-store';

/** Samples older than this are dropped when a new one is recorded. */
export const QUEUE_SAMPLE_RETENTION_MS = 7 * 24 * 3_600_000;

/** A query's WHERE clauses and their parameters, in the order `add` gave them. */
function sqlConditions() {
  const where: string[] = [];
  const params: (string | number)[] = [];
  const add = (clause: string, ...values: (string | number)[]) => {
    where.push(clause);
    params.push(...values);
  };
  return { where, params, add };
}

export class SqliteAdminStore implements AdminStore {
  constructor(private readonly db: Database) {
    // The tables it reads are the job store's: make sure they exist whoever opens the file first.
    new SqliteJobStore(db);
    migrate(db, 'admin-store/1', [
      'CREATE INDEX jobs_by_status ON jobs (status, created_at DESC, id DESC)',
      'CREATE TABLE queue_samples (at INTEGER PRIMARY KEY, doc TEXT NOT NULL)',
    ]);
  }

  async listJobs(query: AdminJobsQuery, options: CallOptions = {}): Promise<Page<BackupJob>> {
    throwIfAborted(options.signal);
    const limit = checkPageLimit(query.limit, 50, 100);
    const { where, params, add } = sqlConditions();
    if (query.status !== undefined) add('status = ?', query.status);
    if (query.uid !== undefined) add('uid = ?', query.uid);
    if (query.deviceId !== undefined) add("json_extract(doc, '$.deviceId') = ?", query.deviceId);
    if (query.type !== undefined) add("EXISTS (SELECT 1 FROM json_each(doc, '$.types') WHERE value = ?)", query.type);
    if (query.from !== undefined) add('created_at >= ?', query.from);
    if (query.to !== undefined) add('created_at < ?', query.to);
    if (query.cursor !== undefined) add('(created_at, id) < (?, ?)', ...decodePageCursor(query.cursor));
    const sql = `SELECT created_at AS a, id AS b, doc FROM jobs ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT ?`;
    return this.page(BackupJob, 'jobs', sql, params, limit);
  }

  async jobStatusCounts(options: CallOptions = {}): Promise<Partial<Record<JobStatus, number>>> {
    throwIfAborted(options.signal);
    const out: Partial<Record<JobStatus, number>> = {};
    for (const row of this.db.prepare('SELECT status, COUNT(*) AS n FROM jobs GROUP BY status').all() as { status: JobStatus; n: number }[]) out[row.status] = row.n;
    return out;
  }

  async listUsers(query: AdminUsersQuery, options: CallOptions = {}): Promise<Page<string>> {
    throwIfAborted(options.signal);
    const limit = checkPageLimit(query.limit, 25, 100);
    const after = query.cursor === undefined ? null : decodeUserCursor(query.cursor);
    const rows = this.db
      .prepare(`SELECT DISTINCT uid FROM jobs ${after === null ? '' : 'WHERE uid > ?'} ORDER BY uid LIMIT ?`)
      .all(...(after === null ? [] : [after]), limit + 1) as { uid: string }[];
    const items = rows.slice(0, limit).map((r) => r.uid);
    const last = items[items.length - 1];
    return { items, ...(rows.length > limit && last !== undefined ? { nextCursor: encodeUserCursor(last) } : {}) };
  }

  async listSnapshots(query: AdminSnapshotsQuery, options: CallOptions = {}): Promise<Page<Snapshot>> {
    throwIfAborted(options.signal);
    const limit = checkPageLimit(query.limit, 50, 100);
    const { where, params, add } = sqlConditions();
    if (query.uid !== undefined) add('uid = ?', query.uid);
    if (query.cursor !== undefined) add('(created_at, id) < (?, ?)', ...decodePageCursor(query.cursor));
    const sql = `SELECT created_at AS a, id AS b, doc FROM snapshots ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT ?`;
    return this.page(Snapshot, 'snapshots', sql, params, limit);
  }

  async countSnapshots(uid: string, options: CallOptions = {}): Promise<number> {
    throwIfAborted(options.signal);
    return (this.db.prepare('SELECT COUNT(*) AS n FROM snapshots WHERE uid = ?').get(uid) as { n: number }).n;
  }

  async snapshotIdsStartingWith(prefix: string, limit: number, uid?: string, options: CallOptions = {}): Promise<string[]> {
    throwIfAborted(options.signal);
    checkPageLimit(limit, limit, 100);
    // Every id that starts with the prefix sorts between it and the prefix followed by U+10FFFF.
    const sql = `SELECT id FROM snapshots WHERE id >= ? AND id < ? ${uid === undefined ? '' : 'AND uid = ?'} ORDER BY id LIMIT ?`;
    const params = [prefix, `${prefix}\u{10FFFF}`, ...(uid === undefined ? [] : [uid]), limit];
    return (this.db.prepare(sql).all(...params) as { id: string }[]).map((r) => r.id).filter((id) => id.startsWith(prefix));
  }

  async recordQueueSample(sample: QueueSample, options: CallOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
    this.db.transaction(() => {
      this.db.prepare('INSERT INTO queue_samples (at, doc) VALUES (?, ?) ON CONFLICT (at) DO UPDATE SET doc = excluded.doc').run(sample.at, JSON.stringify(sample));
      this.db.prepare('DELETE FROM queue_samples WHERE at < ?').run(sample.at - QUEUE_SAMPLE_RETENTION_MS);
    }).immediate();
  }

  async listQueueSamples(since: number, limit: number, options: CallOptions = {}): Promise<QueueSample[]> {
    throwIfAborted(options.signal);
    checkPageLimit(limit, limit, 2000);
    const rows = this.db.prepare('SELECT at, doc FROM queue_samples WHERE at >= ? ORDER BY at LIMIT ?').all(since, limit) as { at: number; doc: string }[];
    return rows.map((r) => fromRow(QueueSampleSchema, r.doc, 'queue_samples', [r.at]));
  }

  /** A keyset page of `table`, whose rows are `a, b` (its sort key, `b` its id) and `doc`, each parsed with `schema`. */
  private page<S extends z.ZodType>(schema: S, table: string, sql: string, params: (string | number)[], limit: number): Page<z.output<S>> {
    const rows = this.db.prepare(sql).all(...params, limit + 1) as { a: number; b: string; doc: string }[];
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    const page: Page<z.output<S>> = { items: items.map((row) => fromRow(schema, row.doc, table, [row.b])) };
    if (rows.length > limit && last) page.nextCursor = encodePageCursor([last.a, last.b]);
    return page;
  }
}
