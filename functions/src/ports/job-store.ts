import type {
  BackupJob,
  BackupType,
  ChunkBatch,
  ChunkIndexEntry,
  ChunkRecord,
  ChunkState,
  JobProgress,
  JobStatus,
  Schedule,
  Snapshot,
  TypeProgress,
} from '../core/model';
import type { CallOptions, Page } from './common';

/** Numeric progress fields a step may add to without reading the job first. */
export type ProgressCounter = Exclude<keyof JobProgress, 'byType'>;

/**
 * Amounts to add to a job's progress counters (`FieldValue.increment` on Firestore). Every amount
 * is a safe integer (negative ones subtract); `checkProgressDeltas` in `progress-deltas.ts` holds
 * the rules and `applyProgressDeltas` the meaning.
 */
export interface ProgressDeltas {
  counters?: Partial<Record<ProgressCounter, number>>;
  byType?: Partial<Record<BackupType, Partial<TypeProgress>>>;
}

/** Plain fields set together with an increment. */
export interface JobTouch {
  updatedAt?: number;
  heartbeatAt?: number;
}

/**
 * A transaction over a handful of documents (Firestore's model): every read comes before the
 * first write, writes are buffered and applied all together at commit, or not at all.
 *
 * Contract:
 * - A read after a write rejects with `failed-precondition` (Firestore refuses it too).
 * - Transactions are optimistic on every adapter (Firestore, and SQLite and the in-memory fake,
 *   which emulate it): if a document read in the transaction changes before commit, or the
 *   function threw after reading documents that have changed since, the whole function runs
 *   again. It must therefore have no side effects besides the transaction's own writes. After 25
 *   conflicting attempts (Firestore's SDK gives up sooner) the call rejects with `aborted`.
 * - Any call on a transaction after its function returned throws `failed-precondition`.
 * - At most 500 writes per transaction; more reject the commit with `invalid-argument`.
 */
export interface JobTransaction {
  getJob(jobId: string): Promise<BackupJob | null>;
  getChunks(jobId: string, chunkIds: readonly string[]): Promise<(ChunkRecord | null)[]>;
  getSnapshot(snapshotId: string): Promise<Snapshot | null>;
  getSchedule(scheduleId: string): Promise<Schedule | null>;
  /** A registration batch of a job, or null. */
  getChunkBatch(jobId: string, batchId: string): Promise<ChunkBatch | null>;
  setJob(job: BackupJob): void;
  /**
   * Adds to counters without reading the job, so concurrent chunk steps do not conflict. A `byType`
   * entry the job lacks starts at zero; `touch` fields are set as given. An unknown counter, type
   * or field, or an amount that is not an integer, throws `invalid-argument` here, at the call. If
   * the job does not exist at commit, the commit fails with `not-found` and writes nothing.
   */
  incrementJob(jobId: string, deltas: ProgressDeltas, touch?: JobTouch): void;
  setChunk(chunk: ChunkRecord): void;
  setChunkBatch(batch: ChunkBatch): void;
  setSnapshot(snapshot: Snapshot): void;
  setSchedule(schedule: Schedule): void;
  deleteSchedule(scheduleId: string): void;
  /** Deletes a snapshot record (retention); deleting a missing one is a no-op. Its blobs stay for GC. */
  deleteSnapshot(snapshotId: string): void;
}

export interface ListJobsQuery {
  uid: string;
  /** Only jobs in this status. */
  status?: JobStatus;
  /** From 1 to 100; anything else is `invalid-argument`. @default 20 */
  limit?: number;
  /** `nextCursor` of the previous page; a cursor the store did not hand out is `invalid-argument`. */
  cursor?: string;
}

export interface ListChunksQuery {
  /** From 1 to 500; anything else is `invalid-argument`. @default 100 */
  limit?: number;
  /** `nextCursor` of the previous page; a cursor the store did not hand out is `invalid-argument`. */
  cursor?: string;
}

export interface ListSnapshotsQuery {
  uid: string;
  /** From 1 to 100; anything else is `invalid-argument`. @default 20 */
  limit?: number;
  /** `nextCursor` of the previous page; a cursor the store did not hand out is `invalid-argument`. */
  cursor?: string;
}

export interface ListChunkBatchesQuery {
  /** From 1 to 100; anything else is `invalid-argument`. @default 20 */
  limit?: number;
  /** `nextCursor` of the previous page; a cursor the store did not hand out is `invalid-argument`. */
  cursor?: string;
}

/** Sums over a job's chunk records in one state. */
export interface ChunkStateTotals {
  chunks: number;
  /** Items the device registered in them (`items`). */
  items: number;
  /** Raw bytes (`size`). */
  bytes: number;
  processedItems: number;
  skippedItems: number;
  storedBytes: number;
}

/** {@link ChunkStateTotals} for every state (zeros where the job has none). */
export type ChunkTotals = Record<ChunkState, ChunkStateTotals>;

/** Sums of a job's registration batches' `totals`: the chunks registration found known. */
export interface KnownTotals {
  chunks: number;
  items: number;
  skipped: number;
  bytes: number;
}

export interface ListChunkIndexQuery {
  uid: string;
  /** From 1 to 500; anything else is `invalid-argument`. @default 100 */
  limit?: number;
  /** `nextCursor` of the previous page; a cursor the store did not hand out is `invalid-argument`. */
  cursor?: string;
}

export interface DueSchedulesQuery {
  /** Schedules with `enabled` and `nextRunAt <= dueBy`. */
  dueBy: number;
  /** From 1 to 2000; anything else is `invalid-argument`. @default 50 */
  limit?: number;
  /** Only schedules after this one in the order (nextRunAt, then id): the last of the previous page. */
  after?: { nextRunAt: number; id: string };
}

/**
 * Jobs, their chunks, the per-user chunk index, snapshots and schedules, in the shape of
 * Firestore collections:
 *
 * | documents      | Firestore path                       | queried by                        |
 * |----------------|--------------------------------------|-----------------------------------|
 * | jobs           | `backupJobs/{jobId}`                 | uid (+ status), createdAt desc    |
 * | chunks         | `backupJobs/{jobId}/chunks/{chunkId}`| index asc; state (aggregations)   |
 * | chunk batches  | `backupJobs/{jobId}/chunkBatches/{id}`| firstIndex asc                   |
 * | chunk index    | `users/{uid}/chunkIndex/{key}`       | key (document gets only)          |
 * | snapshots      | `snapshots/{snapshotId}`             | uid, createdAt desc               |
 * | schedules      | `schedules/{scheduleId}`             | uid; enabled + nextRunAt asc      |
 *
 * Every query is over one collection with one index; there are no joins and no transactions
 * beyond a handful of documents. Documents are validated on write by the callers (core), and
 * adapters return them exactly as written.
 */
export interface JobStore {
  /**
   * Creates a job unless one with its id exists. Resolves `created: false` when it exists (the
   * caller derives ids from the work, so a repeated create is a retry, not a clash).
   */
  createJob(job: BackupJob, options?: CallOptions): Promise<{ created: boolean }>;
  getJob(jobId: string, options?: CallOptions): Promise<BackupJob | null>;
  /** A user's jobs, newest first (createdAt desc, then id desc). */
  listJobs(query: ListJobsQuery, options?: CallOptions): Promise<Page<BackupJob>>;

  /** A job's chunk records in registration order (index asc). */
  listChunks(jobId: string, query?: ListChunksQuery, options?: CallOptions): Promise<Page<ChunkRecord>>;
  /** A job's registration batches, `firstIndex` asc (then id asc). */
  listChunkBatches(jobId: string, query?: ListChunkBatchesQuery, options?: CallOptions): Promise<Page<ChunkBatch>>;
  /**
   * Counts and sums over a job's chunk records by state, without reading them (Firestore
   * aggregation queries; one SQL query embedded). Registration batches are not included.
   */
  chunkTotals(jobId: string, options?: CallOptions): Promise<ChunkTotals>;
  /** Sums of the `totals` of a job's registration batches (a Firestore aggregation query). */
  knownTotals(jobId: string, options?: CallOptions): Promise<KnownTotals>;
  /**
   * Deletes up to `limit` (1..500) of a job's chunk records and registration batches (its
   * registration state, once the snapshot exists); resolves `more: true` while some are left.
   */
  deleteJobChunks(jobId: string, limit: number, options?: CallOptions): Promise<{ deleted: number; more: boolean }>;

  /**
   * Looks up many keys of one user's chunk index at once; `null` where absent. At most 500 keys;
   * more are `invalid-argument`.
   */
  getChunkIndex(uid: string, keys: readonly string[], options?: CallOptions): Promise<(ChunkIndexEntry | null)[]>;
  /** Create-if-absent; an existing entry is kept (it names the same content). */
  putChunkIndex(entry: ChunkIndexEntry, options?: CallOptions): Promise<{ created: boolean }>;
  /** A user's chunk index entries, key ascending (garbage collection walks it). */
  listChunkIndex(query: ListChunkIndexQuery, options?: CallOptions): Promise<Page<ChunkIndexEntry>>;
  /**
   * Deletes entries of one user's chunk index (garbage collection, before it deletes the blobs
   * they name); missing keys are ignored. At most 500 keys; more are `invalid-argument`.
   */
  deleteChunkIndex(uid: string, keys: readonly string[], options?: CallOptions): Promise<void>;

  getSnapshot(snapshotId: string, options?: CallOptions): Promise<Snapshot | null>;
  /** A user's snapshots, newest first (createdAt desc, then id desc). */
  listSnapshots(query: ListSnapshotsQuery, options?: CallOptions): Promise<Page<Snapshot>>;

  getSchedule(scheduleId: string, options?: CallOptions): Promise<Schedule | null>;
  /** All of a user's schedules, id ascending (users have few, so there is no paging). */
  listSchedules(uid: string, options?: CallOptions): Promise<Schedule[]>;
  /** Enabled schedules due by a time, earliest first (nextRunAt asc, then id asc), at most `limit`. */
  listDueSchedules(query: DueSchedulesQuery, options?: CallOptions): Promise<Schedule[]>;

  /**
   * Deletes up to `limit` (1..500) of one user's documents, and nothing of anyone else's: their
   * snapshots, schedules, jobs with each job's chunk records and registration batches (a job after
   * its chunks and batches, so a job left by a call that stopped is still found with them), and
   * their chunk index. Resolves `more: true` while some are left; call again until it is false
   * (each call starts over from what is left, so a call that failed or stopped loses nothing).
   * Deleting a user with no documents is a no-op. It deletes whatever it finds: the caller makes
   * sure no job of the user is still working (`deleteUserData` cancels them first).
   */
  deleteUserDocuments(uid: string, limit: number, options?: CallOptions): Promise<{ deleted: number; more: boolean }>;

  /** Runs `fn` as one transaction; see {@link JobTransaction}. */
  runTransaction<T>(fn: (tx: JobTransaction) => Promise<T>, options?: CallOptions): Promise<T>;
}
