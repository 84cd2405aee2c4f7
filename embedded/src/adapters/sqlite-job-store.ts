/**
 * JobStore on SQLite, mirroring the Firestore document model: one table per collection, each row
 * the document as JSON plus the few columns its queries need, and a revision per row.
 *
 * Transactions are optimistic like Firestore's: reads remember each document's revision (0 when
 * absent); the commit takes the write lock (`BEGIN IMMEDIATE`), checks those revisions, applies
 * the buffered writes and commits, so no SQL transaction is ever held across an `await` and two
 * processes sharing the file stay correct. A conflict re-runs the function.
 */
import { BackupJob, ChunkBatch, ChunkIndexEntry, ChunkRecord, lifeboatError, Schedule, Snapshot } from '@lifeboat/engine/core';
import {
  applyProgressDeltas,
  BufferedTransaction,
  checkPageLimit,
  checkProgressDeltas,
  decodePageCursor,
  emptyChunkTotals,
  encodePageCursor,
  runOptimisticTransaction,
  throwIfAborted,
  type CallOptions,
  type ChunkTotals,
  type DueSchedulesQuery,
  type KnownTotals,
  type JobStore,
  type JobTouch,
  type JobTransaction,
  type ListChunkBatchesQuery,
  type ListChunkIndexQuery,
  type ListChunksQuery,
  type ListJobsQuery,
  type ListSnapshotsQuery,
  type OptimisticStore,
  type Page,
  type ProgressDeltas,
} from '@lifeboat/engine/ports';
import type BetterSqlite3 from 'better-sqlite3';
import type { z } from 'zod';
import { migrate, type Database } from './sqlite-database';
import { fromRow } from './sqlite-documents';

const MAX_INDEX_KEYS = 500;

const SCHEMA = [
  'CREATE TABLE job_store_revision (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL)',
  'INSERT INTO job_store_revision (id, value) VALUES (1, 0)',
  `CREATE TABLE jobs (id TEXT PRIMARY KEY, uid TEXT NOT NULL, status TEXT NOT NULL,
     created_at INTEGER NOT NULL, rev INTEGER NOT NULL, doc TEXT NOT NULL)`,
  'CREATE INDEX jobs_by_uid ON jobs (uid, created_at DESC, id DESC)',
  'CREATE INDEX jobs_by_uid_status ON jobs (uid, status, created_at DESC, id DESC)',
  `CREATE TABLE chunks (job_id TEXT NOT NULL, chunk_id TEXT NOT NULL, idx INTEGER NOT NULL,
     rev INTEGER NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (job_id, chunk_id))`,
  'CREATE INDEX chunks_by_index ON chunks (job_id, idx, chunk_id)',
  'CREATE TABLE chunk_index (uid TEXT NOT NULL, key TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (uid, key))',
  `CREATE TABLE snapshots (id TEXT PRIMARY KEY, uid TEXT NOT NULL, created_at INTEGER NOT NULL,
     rev INTEGER NOT NULL, doc TEXT NOT NULL)`,
  'CREATE INDEX snapshots_by_uid ON snapshots (uid, created_at DESC, id DESC)',
  `CREATE TABLE schedules (id TEXT PRIMARY KEY, uid TEXT NOT NULL, enabled INTEGER NOT NULL,
     next_run_at INTEGER NOT NULL, rev INTEGER NOT NULL, doc TEXT NOT NULL)`,
  'CREATE INDEX schedules_by_uid ON schedules (uid, id)',
  'CREATE INDEX schedules_due ON schedules (next_run_at, id) WHERE enabled = 1',
];

/** The schema of each table's documents: every row read is parsed with it, once (`fromRow`). */
const SCHEMAS = {
  jobs: BackupJob,
  chunks: ChunkRecord,
  chunk_batches: ChunkBatch,
  snapshots: Snapshot,
  schedules: Schedule,
  chunk_index: ChunkIndexEntry,
} as const;
type Table = keyof typeof SCHEMAS;
type DocOf<T extends Table> = z.output<(typeof SCHEMAS)[T]>;
type Collection = Exclude<Table, 'chunk_index'>;

/** Per table, its schema as a parser of that table's documents (a mapped type, so a generic table keeps its document type). */
const SCHEMA_OF: { [T in Table]: z.ZodType<DocOf<T>> } = SCHEMAS;

/**
 * Tables whose rows the JobStore hands over even when they do not match their schema (still JSON
 * objects): the repository check lists and reads snapshot records and chunk-index entries through
 * the JobStore and reports and repairs one that does not parse itself (`check-repository.ts`,
 * `check-repair.ts`), as it does on the memory store. Every other read of them (the dashboard's,
 * the admin store's) and every read of the other tables is `data-loss`.
 */
const HANDED_TO_CHECK: ReadonlySet<Table> = new Set<Table>(['snapshots', 'chunk_index']);

/**
 * The document a row of `table` holds, parsed with its schema.
 *
 * @param forCheck a JobStore port read the repository check relies on (see `HANDED_TO_CHECK`).
 * @throws LifeboatError `data-loss` naming the table and `key` when the row does not parse.
 */
function parseRow<T extends Table>(table: T, doc: string, key: readonly string[], forCheck = true): DocOf<T> {
  const schema: z.ZodType<DocOf<T>> = SCHEMA_OF[table];
  return fromRow(schema, doc, table, key, forCheck && HANDED_TO_CHECK.has(table) ? 'hand-over' : 'data-loss');
}

type Params = Record<string, string | number>;

/** Per collection: how to find a row by its key, and the upsert that writes one. */
const TABLES: Record<Collection, { where: string; upsert: string }> = {
  jobs: {
    where: 'id = ?',
    upsert: `INSERT INTO jobs (id, uid, status, created_at, rev, doc) VALUES (@id, @uid, @status, @created_at, @rev, @doc)
      ON CONFLICT (id) DO UPDATE SET uid = excluded.uid, status = excluded.status,
      created_at = excluded.created_at, rev = excluded.rev, doc = excluded.doc`,
  },
  chunks: {
    where: 'job_id = ? AND chunk_id = ?',
    upsert: `INSERT INTO chunks (job_id, chunk_id, idx, rev, doc) VALUES (@job_id, @chunk_id, @idx, @rev, @doc)
      ON CONFLICT (job_id, chunk_id) DO UPDATE SET idx = excluded.idx, rev = excluded.rev, doc = excluded.doc`,
  },
  chunk_batches: {
    where: 'job_id = ? AND batch_id = ?',
    upsert: `INSERT INTO chunk_batches (job_id, batch_id, first_idx, rev, doc) VALUES (@job_id, @batch_id, @first_idx, @rev, @doc)
      ON CONFLICT (job_id, batch_id) DO UPDATE SET first_idx = excluded.first_idx, rev = excluded.rev, doc = excluded.doc`,
  },
  snapshots: {
    where: 'id = ?',
    upsert: `INSERT INTO snapshots (id, uid, created_at, rev, doc) VALUES (@id, @uid, @created_at, @rev, @doc)
      ON CONFLICT (id) DO UPDATE SET uid = excluded.uid, created_at = excluded.created_at,
      rev = excluded.rev, doc = excluded.doc`,
  },
  schedules: {
    where: 'id = ?',
    upsert: `INSERT INTO schedules (id, uid, enabled, next_run_at, rev, doc)
      VALUES (@id, @uid, @enabled, @next_run_at, @rev, @doc)
      ON CONFLICT (id) DO UPDATE SET uid = excluded.uid, enabled = excluded.enabled,
      next_run_at = excluded.next_run_at, rev = excluded.rev, doc = excluded.doc`,
  },
};

interface Row {
  rev: number;
  doc: string;
}

type Write =
  | { kind: 'set'; collection: Collection; params: Params }
  | { kind: 'delete'; collection: Collection; key: string[] }
  | { kind: 'increment'; jobId: string; deltas: ProgressDeltas; touch: JobTouch };

interface Read {
  collection: Collection;
  key: string[];
  rev: number;
}

function jobParams(job: BackupJob): Params {
  return { id: job.id, uid: job.uid, status: job.status, created_at: job.createdAt, doc: JSON.stringify(job) };
}

/** SQLite's lock errors (after the busy timeout) are a passing condition, not a bug. */
function translate(err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))) {
    return lifeboatError('unavailable', 'the database is busy', { cause: err });
  }
  return err;
}

function guarded<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw translate(err);
  }
}

class SqliteTransaction extends BufferedTransaction<Read, Write> implements JobTransaction {
  constructor(
    private readonly load: (collection: Collection, key: string[]) => Row | undefined,
    signal: AbortSignal | undefined,
  ) {
    super(signal);
  }

  async getJob(jobId: string): Promise<BackupJob | null> {
    return this.read('jobs', [jobId]);
  }

  async getChunks(jobId: string, chunkIds: readonly string[]): Promise<(ChunkRecord | null)[]> {
    return chunkIds.map((chunkId) => this.read('chunks', [jobId, chunkId]));
  }

  async getSnapshot(snapshotId: string): Promise<Snapshot | null> {
    return this.read('snapshots', [snapshotId]);
  }

  async getSchedule(scheduleId: string): Promise<Schedule | null> {
    return this.read('schedules', [scheduleId]);
  }

  async getChunkBatch(jobId: string, batchId: string): Promise<ChunkBatch | null> {
    return this.read('chunk_batches', [jobId, batchId]);
  }

  setJob(job: BackupJob): void {
    this.write({ kind: 'set', collection: 'jobs', params: jobParams(job) });
  }

  incrementJob(jobId: string, deltas: ProgressDeltas, touch: JobTouch = {}): void {
    this.write({ kind: 'increment', jobId, ...checkProgressDeltas(deltas, touch) });
  }

  setChunk(chunk: ChunkRecord): void {
    const params = { job_id: chunk.jobId, chunk_id: chunk.id, idx: chunk.index, doc: JSON.stringify(chunk) };
    this.write({ kind: 'set', collection: 'chunks', params });
  }

  setChunkBatch(batch: ChunkBatch): void {
    const params = { job_id: batch.jobId, batch_id: batch.id, first_idx: batch.firstIndex, doc: JSON.stringify(batch) };
    this.write({ kind: 'set', collection: 'chunk_batches', params });
  }

  setSnapshot(snapshot: Snapshot): void {
    const params = { id: snapshot.id, uid: snapshot.uid, created_at: snapshot.createdAt, doc: JSON.stringify(snapshot) };
    this.write({ kind: 'set', collection: 'snapshots', params });
  }

  setSchedule(schedule: Schedule): void {
    const params = {
      id: schedule.id,
      uid: schedule.uid,
      enabled: schedule.enabled ? 1 : 0,
      next_run_at: schedule.nextRunAt,
      doc: JSON.stringify(schedule),
    };
    this.write({ kind: 'set', collection: 'schedules', params });
  }

  deleteSchedule(scheduleId: string): void {
    this.write({ kind: 'delete', collection: 'schedules', key: [scheduleId] });
  }

  deleteSnapshot(snapshotId: string): void {
    this.write({ kind: 'delete', collection: 'snapshots', key: [snapshotId] });
  }

  private read<C extends Collection>(collection: C, key: string[]): DocOf<C> | null {
    this.beforeRead();
    const row = this.load(collection, key);
    this.remember(`${collection}:${JSON.stringify(key)}`, { collection, key, rev: row?.rev ?? 0 });
    return row ? parseRow(collection, row.doc, key) : null;
  }
}

/** A short random pause, so contending writers (maybe in other processes) spread out. */
function backoff(attempt: number): Promise<void> {
  const ms = Math.floor(Math.random() * Math.min(2 ** attempt, 50));
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** {@link JobStore} over a better-sqlite3 database; see the module comment for the transaction model. */
export class SqliteJobStore implements JobStore {
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  private readonly commitWrites: (tx: SqliteTransaction) => boolean;
  private readonly readsCurrentSnapshot: (tx: SqliteTransaction) => boolean;
  private readonly createJobAtomically: (job: BackupJob) => boolean;
  private readonly optimistic: OptimisticStore<SqliteTransaction>;

  constructor(private readonly db: Database) {
    migrate(db, 'job-store/1', SCHEMA);
    // The dashboard's views across users (`recentJobs`, `recentSnapshots`).
    migrate(db, 'job-store/2-recent', ['CREATE INDEX jobs_recent ON jobs (created_at DESC, id DESC)', 'CREATE INDEX snapshots_recent ON snapshots (created_at DESC, id DESC)']);
    // Registration batches (known chunks, one row per registration call).
    migrate(db, 'job-store/3-chunk-batches', [
      `CREATE TABLE chunk_batches (job_id TEXT NOT NULL, batch_id TEXT NOT NULL, first_idx INTEGER NOT NULL,
         rev INTEGER NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (job_id, batch_id))`,
      'CREATE INDEX chunk_batches_by_index ON chunk_batches (job_id, first_idx, batch_id)',
    ]);
    const commit = db.transaction((tx: SqliteTransaction): boolean => {
      if (!this.readsCurrent(tx)) return false;
      const rev = this.nextRevision();
      for (const write of tx.writes) this.apply(write, rev);
      return true;
    });
    this.commitWrites = (tx) => commit.immediate(tx);
    const check = db.transaction((tx: SqliteTransaction) => this.readsCurrent(tx));
    this.readsCurrentSnapshot = (tx) => check.deferred(tx);
    const create = db.transaction((job: BackupJob): boolean => {
      const params = { ...jobParams(job), rev: this.nextRevision() };
      const sql = `INSERT INTO jobs (id, uid, status, created_at, rev, doc)
        VALUES (@id, @uid, @status, @created_at, @rev, @doc) ON CONFLICT (id) DO NOTHING`;
      return this.statement(sql).run(params).changes === 1;
    });
    this.createJobAtomically = (job) => create.immediate(job);
    this.optimistic = {
      begin: (signal) => new SqliteTransaction((collection, key) => this.readRow(collection, key), signal),
      readsCurrent: (tx) => guarded(() => this.readsCurrentSnapshot(tx)),
      // A transaction without writes only checks its reads, so it needs no write lock.
      commit: (tx) => guarded(() => (tx.writes.length === 0 ? this.readsCurrentSnapshot(tx) : this.commitWrites(tx))),
      backoff,
    };
  }

  async createJob(job: BackupJob, options: CallOptions = {}): Promise<{ created: boolean }> {
    throwIfAborted(options.signal);
    return { created: guarded(() => this.createJobAtomically(job)) };
  }

  async getJob(jobId: string, options: CallOptions = {}): Promise<BackupJob | null> {
    throwIfAborted(options.signal);
    return this.getDoc('jobs', [jobId]);
  }

  /**
   * The newest jobs of every user, for the embedded dashboard: an admin view with no port of its
   * own (on Firebase the console shows the collections).
   */
  recentJobs(limit: number): BackupJob[] {
    return (this.db.prepare('SELECT id, doc FROM jobs ORDER BY created_at DESC, id DESC LIMIT ?').all(limit) as { id: string; doc: string }[]).map((r) => parseRow('jobs', r.doc, [r.id]));
  }

  /** The newest snapshots of every user, for the embedded dashboard. */
  recentSnapshots(limit: number): Snapshot[] {
    return (this.db.prepare('SELECT id, doc FROM snapshots ORDER BY created_at DESC, id DESC LIMIT ?').all(limit) as { id: string; doc: string }[]).map((r) => parseRow('snapshots', r.doc, [r.id], false));
  }

  /**
   * Ids of snapshots that start with `prefix` (of one user when `uid` is given), in id order, at
   * most `limit`: the CLI's short snapshot ids. A range scan of the primary key.
   */
  snapshotIdsStartingWith(prefix: string, limit: number, uid?: string): string[] {
    // Every id that starts with the prefix sorts between it and the prefix followed by U+10FFFF.
    const sql = `SELECT id FROM snapshots WHERE id >= ? AND id < ? ${uid === undefined ? '' : 'AND uid = ?'} ORDER BY id LIMIT ?`;
    const params = [prefix, `${prefix}\u{10FFFF}`, ...(uid === undefined ? [] : [uid]), limit];
    return (this.db.prepare(sql).all(...params) as { id: string }[]).map((r) => r.id).filter((id) => id.startsWith(prefix));
  }

  /**
   * Every user with a job, a snapshot or a chunk-index entry, in id order: `lifeboat check` with
   * no `--uid` checks them all.
   */
  userIds(): string[] {
    const sql = 'SELECT uid FROM jobs UNION SELECT uid FROM snapshots UNION SELECT uid FROM chunk_index ORDER BY uid';
    return (this.db.prepare(sql).all() as { uid: string }[]).map((r) => r.uid);
  }

  /** How many jobs of every user are in each status, for the embedded dashboard. */
  jobStatusCounts(): Partial<Record<BackupJob['status'], number>> {
    const out: Partial<Record<BackupJob['status'], number>> = {};
    for (const row of this.db.prepare('SELECT status, COUNT(*) AS n FROM jobs GROUP BY status').all() as { status: BackupJob['status']; n: number }[]) out[row.status] = row.n;
    return out;
  }

  async listJobs(query: ListJobsQuery, options: CallOptions = {}): Promise<Page<BackupJob>> {
    throwIfAborted(options.signal);
    const limit = checkPageLimit(query.limit, 20, 100);
    const after = query.cursor === undefined ? undefined : decodePageCursor(query.cursor);
    const params: (string | number)[] = [query.uid];
    let sql = 'SELECT created_at AS a, id AS b, doc FROM jobs WHERE uid = ?';
    if (query.status !== undefined) {
      sql += ' AND status = ?';
      params.push(query.status);
    }
    if (after) {
      sql += ' AND (created_at, id) < (?, ?)';
      params.push(...after);
    }
    sql += ' ORDER BY created_at DESC, id DESC LIMIT ?';
    return this.page('jobs', [], sql, params, limit);
  }

  async listChunks(jobId: string, query: ListChunksQuery = {}, options: CallOptions = {}): Promise<Page<ChunkRecord>> {
    throwIfAborted(options.signal);
    const limit = checkPageLimit(query.limit, 100, 500);
    const after = query.cursor === undefined ? undefined : decodePageCursor(query.cursor);
    const sql = `SELECT idx AS a, chunk_id AS b, doc FROM chunks WHERE job_id = ?
      ${after ? 'AND (idx, chunk_id) > (?, ?)' : ''} ORDER BY idx, chunk_id LIMIT ?`;
    return this.page('chunks', [jobId], sql, after ? [jobId, ...after] : [jobId], limit);
  }

  async listChunkBatches(jobId: string, query: ListChunkBatchesQuery = {}, options: CallOptions = {}): Promise<Page<ChunkBatch>> {
    throwIfAborted(options.signal);
    const limit = checkPageLimit(query.limit, 20, 100);
    const after = query.cursor === undefined ? undefined : decodePageCursor(query.cursor);
    const sql = `SELECT first_idx AS a, batch_id AS b, doc FROM chunk_batches WHERE job_id = ?
      ${after ? 'AND (first_idx, batch_id) > (?, ?)' : ''} ORDER BY first_idx, batch_id LIMIT ?`;
    return this.page('chunk_batches', [jobId], sql, after ? [jobId, ...after] : [jobId], limit);
  }

  async chunkTotals(jobId: string, options: CallOptions = {}): Promise<ChunkTotals> {
    throwIfAborted(options.signal);
    const sql = `SELECT json_extract(doc, '$.state') AS state, COUNT(*) AS chunks, SUM(json_extract(doc, '$.items')) AS items, SUM(json_extract(doc, '$.size')) AS bytes,
      SUM(json_extract(doc, '$.processedItems')) AS processedItems, SUM(json_extract(doc, '$.skippedItems')) AS skippedItems,
      SUM(json_extract(doc, '$.storedBytes')) AS storedBytes FROM chunks WHERE job_id = ? GROUP BY state`;
    const totals = emptyChunkTotals();
    type Sums = { state: keyof ChunkTotals; chunks: number; items: number; bytes: number; processedItems: number; skippedItems: number; storedBytes: number };
    for (const { state, ...sums } of guarded(() => this.statement(sql).all(jobId) as Sums[])) totals[state] = sums;
    return totals;
  }

  async knownTotals(jobId: string, options: CallOptions = {}): Promise<KnownTotals> {
    throwIfAborted(options.signal);
    const sql = `SELECT COALESCE(SUM(json_extract(doc, '$.totals.chunks')), 0) AS chunks, COALESCE(SUM(json_extract(doc, '$.totals.items')), 0) AS items,
      COALESCE(SUM(json_extract(doc, '$.totals.skipped')), 0) AS skipped, COALESCE(SUM(json_extract(doc, '$.totals.bytes')), 0) AS bytes FROM chunk_batches WHERE job_id = ?`;
    return guarded(() => this.statement(sql).get(jobId) as KnownTotals);
  }

  async deleteJobChunks(jobId: string, limit: number, options: CallOptions = {}): Promise<{ deleted: number; more: boolean }> {
    throwIfAborted(options.signal);
    checkPageLimit(limit, 500, 500);
    const run = this.db.transaction((): { deleted: number; more: boolean } => {
      let deleted = 0;
      for (const table of ['chunks', 'chunk_batches'] as const) {
        const key = table === 'chunks' ? 'chunk_id' : 'batch_id';
        const sql = `DELETE FROM ${table} WHERE job_id = ? AND ${key} IN (SELECT ${key} FROM ${table} WHERE job_id = ? LIMIT ?)`;
        deleted += this.statement(sql).run(jobId, jobId, limit - deleted).changes;
        if (deleted >= limit) break;
      }
      const left = this.statement('SELECT EXISTS (SELECT 1 FROM chunks WHERE job_id = ?) OR EXISTS (SELECT 1 FROM chunk_batches WHERE job_id = ?) AS more').get(jobId, jobId) as { more: number };
      // Revisions move on, so a transaction that read a deleted row re-runs.
      if (deleted > 0) this.nextRevision();
      return { deleted, more: left.more === 1 };
    });
    return guarded(() => run.immediate());
  }

  async deleteUserDocuments(uid: string, limit: number, options: CallOptions = {}): Promise<{ deleted: number; more: boolean }> {
    throwIfAborted(options.signal);
    checkPageLimit(limit, 500, 500);
    const run = this.db.transaction((): { deleted: number; more: boolean } => {
      let deleted = 0;
      const left = () => limit - deleted;
      for (const table of ['snapshots', 'schedules'] as const) {
        if (left() > 0) deleted += this.statement(`DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE uid = ? LIMIT ?)`).run(uid, left()).changes;
      }
      // A job goes only once its chunks and batches are gone, so one left behind is found with them.
      const jobs = this.statement('SELECT id FROM jobs WHERE uid = ? ORDER BY id').all(uid) as { id: string }[];
      for (const { id } of jobs) {
        if (left() <= 0) break;
        for (const [table, key] of [['chunks', 'chunk_id'], ['chunk_batches', 'batch_id']] as const) {
          if (left() > 0) deleted += this.statement(`DELETE FROM ${table} WHERE job_id = ? AND ${key} IN (SELECT ${key} FROM ${table} WHERE job_id = ? LIMIT ?)`).run(id, id, left()).changes;
        }
        const registered = this.statement('SELECT EXISTS (SELECT 1 FROM chunks WHERE job_id = ?) OR EXISTS (SELECT 1 FROM chunk_batches WHERE job_id = ?) AS n').get(id, id) as { n: number };
        if (left() > 0 && registered.n === 0) deleted += this.statement('DELETE FROM jobs WHERE id = ?').run(id).changes;
      }
      if (left() > 0) deleted += this.statement('DELETE FROM chunk_index WHERE uid = ? AND key IN (SELECT key FROM chunk_index WHERE uid = ? LIMIT ?)').run(uid, uid, left()).changes;
      const more = this.statement(
        `SELECT EXISTS (SELECT 1 FROM snapshots WHERE uid = ?) OR EXISTS (SELECT 1 FROM schedules WHERE uid = ?)
          OR EXISTS (SELECT 1 FROM jobs WHERE uid = ?) OR EXISTS (SELECT 1 FROM chunk_index WHERE uid = ?) AS more`,
      ).get(uid, uid, uid, uid) as { more: number };
      // Revisions move on, so a transaction that read a deleted row re-runs.
      if (deleted > 0) this.nextRevision();
      return { deleted, more: more.more === 1 };
    });
    return guarded(() => run.immediate());
  }

  async getChunkIndex(uid: string, keys: readonly string[], options: CallOptions = {}): Promise<(ChunkIndexEntry | null)[]> {
    throwIfAborted(options.signal);
    if (keys.length > MAX_INDEX_KEYS) throw lifeboatError('invalid-argument', `at most ${MAX_INDEX_KEYS} keys per lookup`);
    if (keys.length === 0) return [];
    const sql = 'SELECT key, doc FROM chunk_index WHERE uid = ? AND key IN (SELECT value FROM json_each(?))';
    const rows = guarded(() => this.statement(sql).all(uid, JSON.stringify(keys)) as { key: string; doc: string }[]);
    const found = new Map(rows.map((row) => [row.key, row.doc]));
    return keys.map((key) => {
      const doc = found.get(key);
      return doc === undefined ? null : parseRow('chunk_index', doc, [uid, key]);
    });
  }

  async putChunkIndex(entry: ChunkIndexEntry, options: CallOptions = {}): Promise<{ created: boolean }> {
    throwIfAborted(options.signal);
    const sql = 'INSERT INTO chunk_index (uid, key, doc) VALUES (?, ?, ?) ON CONFLICT (uid, key) DO NOTHING';
    const result = guarded(() => this.statement(sql).run(entry.uid, entry.key, JSON.stringify(entry)));
    return { created: result.changes === 1 };
  }

  async listChunkIndex(query: ListChunkIndexQuery, options: CallOptions = {}): Promise<Page<ChunkIndexEntry>> {
    throwIfAborted(options.signal);
    const limit = checkPageLimit(query.limit, 100, 500);
    const after = query.cursor === undefined ? undefined : decodePageCursor(query.cursor)[1];
    const sql = `SELECT 0 AS a, key AS b, doc FROM chunk_index WHERE uid = ? ${after !== undefined ? 'AND key > ?' : ''} ORDER BY key LIMIT ?`;
    return this.page('chunk_index', [query.uid], sql, after !== undefined ? [query.uid, after] : [query.uid], limit);
  }

  async deleteChunkIndex(uid: string, keys: readonly string[], options: CallOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
    if (keys.length > MAX_INDEX_KEYS) throw lifeboatError('invalid-argument', `at most ${MAX_INDEX_KEYS} keys per delete`);
    if (keys.length === 0) return;
    const sql = 'DELETE FROM chunk_index WHERE uid = ? AND key IN (SELECT value FROM json_each(?))';
    guarded(() => this.statement(sql).run(uid, JSON.stringify(keys)));
  }

  async getSnapshot(snapshotId: string, options: CallOptions = {}): Promise<Snapshot | null> {
    throwIfAborted(options.signal);
    return this.getDoc('snapshots', [snapshotId]);
  }

  async listSnapshots(query: ListSnapshotsQuery, options: CallOptions = {}): Promise<Page<Snapshot>> {
    throwIfAborted(options.signal);
    const limit = checkPageLimit(query.limit, 20, 100);
    const after = query.cursor === undefined ? undefined : decodePageCursor(query.cursor);
    const sql = `SELECT created_at AS a, id AS b, doc FROM snapshots WHERE uid = ?
      ${after ? 'AND (created_at, id) < (?, ?)' : ''} ORDER BY created_at DESC, id DESC LIMIT ?`;
    return this.page('snapshots', [], sql, after ? [query.uid, ...after] : [query.uid], limit);
  }

  async getSchedule(scheduleId: string, options: CallOptions = {}): Promise<Schedule | null> {
    throwIfAborted(options.signal);
    return this.getDoc('schedules', [scheduleId]);
  }

  async listSchedules(uid: string, options: CallOptions = {}): Promise<Schedule[]> {
    throwIfAborted(options.signal);
    return this.docs('schedules', 'SELECT id, doc FROM schedules WHERE uid = ? ORDER BY id', [uid]);
  }

  async listDueSchedules(query: DueSchedulesQuery, options: CallOptions = {}): Promise<Schedule[]> {
    throwIfAborted(options.signal);
    const limit = checkPageLimit(query.limit, 50, 2000);
    const after = query.after;
    const sql = `SELECT id, doc FROM schedules WHERE enabled = 1 AND next_run_at <= ? ${after ? 'AND (next_run_at, id) > (?, ?)' : ''} ORDER BY next_run_at, id LIMIT ?`;
    return this.docs('schedules', sql, after ? [query.dueBy, after.nextRunAt, after.id, limit] : [query.dueBy, limit]);
  }

  async runTransaction<T>(fn: (tx: JobTransaction) => Promise<T>, options: CallOptions = {}): Promise<T> {
    return runOptimisticTransaction(this.optimistic, fn, options.signal);
  }

  private statement(sql: string): BetterSqlite3.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private readRow(collection: Collection, key: string[]): Row | undefined {
    const sql = `SELECT rev, doc FROM ${collection} WHERE ${TABLES[collection].where}`;
    return guarded(() => this.statement(sql).get(...key) as Row | undefined);
  }

  private getDoc<C extends Collection>(collection: C, key: string[]): DocOf<C> | null {
    const row = this.readRow(collection, key);
    return row ? parseRow(collection, row.doc, key) : null;
  }

  /** The documents of a query over `table` whose rows are `id, doc`. */
  private docs<T extends Table>(table: T, sql: string, params: (string | number)[]): DocOf<T>[] {
    const rows = guarded(() => this.statement(sql).all(...params) as { id: string; doc: string }[]);
    return rows.map((row) => parseRow(table, row.doc, [row.id]));
  }

  /**
   * Runs a keyset query over `table` whose rows carry their sort key as `a`, `b` (`b` the last
   * part of the row's key, after `keyPrefix`); asks one row more to know if a page follows.
   */
  private page<T extends Table>(table: T, keyPrefix: readonly string[], sql: string, params: (string | number)[], limit: number): Page<DocOf<T>> {
    const rows = guarded(() => this.statement(sql).all(...params, limit + 1) as { a: number; b: string; doc: string }[]);
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    const page: Page<DocOf<T>> = { items: items.map((row) => parseRow(table, row.doc, [...keyPrefix, row.b])) };
    if (rows.length > limit && last) page.nextCursor = encodePageCursor([last.a, last.b]);
    return page;
  }

  private readsCurrent(tx: SqliteTransaction): boolean {
    for (const read of tx.reads.values()) {
      const sql = `SELECT rev FROM ${read.collection} WHERE ${TABLES[read.collection].where}`;
      const row = this.statement(sql).get(...read.key) as { rev: number } | undefined;
      if ((row?.rev ?? 0) !== read.rev) return false;
    }
    return true;
  }

  /** A store-wide counter, so a deleted and re-created document never reuses a revision. */
  private nextRevision(): number {
    const sql = 'UPDATE job_store_revision SET value = value + 1 WHERE id = 1 RETURNING value';
    return (this.statement(sql).get() as { value: number }).value;
  }

  private apply(write: Write, rev: number): void {
    switch (write.kind) {
      case 'set':
        this.statement(TABLES[write.collection].upsert).run({ ...write.params, rev });
        return;
      case 'delete':
        this.statement(`DELETE FROM ${write.collection} WHERE ${TABLES[write.collection].where}`).run(...write.key);
        return;
      case 'increment': {
        const row = this.readRow('jobs', [write.jobId]);
        if (!row) throw lifeboatError('not-found', `no job ${write.jobId} to increment`);
        const job = applyProgressDeltas(parseRow('jobs', row.doc, [write.jobId]), write.deltas, write.touch);
        this.statement(TABLES.jobs.upsert).run({ ...jobParams(job), rev });
        return;
      }
    }
  }
}
