import type {
  BackupJob,
  BackupType,
  ChunkIndexEntry,
  ChunkRecord,
  JobProgress,
  JobStatus,
  Schedule,
  Snapshot,
  TypeProgress,
} from '../core/model';
import type { CallOptions, Page } from './common';

/** Numeric progress fields a step may add to without reading the job first. */
export type ProgressCounter = Exclude<keyof JobProgress, 'byType'>;

/** Amounts to add to a job's progress counters (`FieldValue.increment` on Firestore). */
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
 * - If a document read in the transaction changes before commit, the whole function runs again
 *   (on Firestore) or the adapter serialises transactions so that cannot happen (SQLite).
 *   The function must therefore have no side effects besides the transaction's own writes.
 * - At most 500 writes per transaction.
 */
export interface JobTransaction {
  getJob(jobId: string): Promise<BackupJob | null>;
  getChunks(jobId: string, chunkIds: readonly string[]): Promise<(ChunkRecord | null)[]>;
  getSnapshot(snapshotId: string): Promise<Snapshot | null>;
  getSchedule(scheduleId: string): Promise<Schedule | null>;
  setJob(job: BackupJob): void;
  /** Adds to counters without reading the job, so concurrent chunk steps do not conflict. */
  incrementJob(jobId: string, deltas: ProgressDeltas, touch?: JobTouch): void;
  setChunk(chunk: ChunkRecord): void;
  setSnapshot(snapshot: Snapshot): void;
  setSchedule(schedule: Schedule): void;
  deleteSchedule(scheduleId: string): void;
}

export interface ListJobsQuery {
  uid: string;
  /** Only jobs in this status. */
  status?: JobStatus;
  /** @default 20; at most 100 */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

export interface ListChunksQuery {
  /** @default 100; at most 500 */
  limit?: number;
  cursor?: string;
}

export interface ListSnapshotsQuery {
  uid: string;
  /** @default 20; at most 100 */
  limit?: number;
  cursor?: string;
}

export interface DueSchedulesQuery {
  /** Schedules with `enabled` and `nextRunAt <= dueBy`. */
  dueBy: number;
  /** @default 50 */
  limit?: number;
}

/**
 * Jobs, their chunks, the per-user chunk index, snapshots and schedules, in the shape of
 * Firestore collections:
 *
 * | documents      | Firestore path                       | queried by                        |
 * |----------------|--------------------------------------|-----------------------------------|
 * | jobs           | `backupJobs/{jobId}`                 | uid (+ status), createdAt desc    |
 * | chunks         | `backupJobs/{jobId}/chunks/{chunkId}`| index asc                         |
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

  /** A job's chunks in registration order (index asc). */
  listChunks(jobId: string, query?: ListChunksQuery, options?: CallOptions): Promise<Page<ChunkRecord>>;

  /** Looks up many keys of one user's chunk index at once; `null` where absent. At most 500 keys. */
  getChunkIndex(uid: string, keys: readonly string[], options?: CallOptions): Promise<(ChunkIndexEntry | null)[]>;
  /** Create-if-absent; an existing entry is kept (it names the same content). */
  putChunkIndex(entry: ChunkIndexEntry, options?: CallOptions): Promise<{ created: boolean }>;

  getSnapshot(snapshotId: string, options?: CallOptions): Promise<Snapshot | null>;
  /** A user's snapshots, newest first (createdAt desc, then id desc). */
  listSnapshots(query: ListSnapshotsQuery, options?: CallOptions): Promise<Page<Snapshot>>;

  getSchedule(scheduleId: string, options?: CallOptions): Promise<Schedule | null>;
  listSchedules(uid: string, options?: CallOptions): Promise<Schedule[]>;
  /** Enabled schedules due by a time, earliest first. */
  listDueSchedules(query: DueSchedulesQuery, options?: CallOptions): Promise<Schedule[]>;

  /** Runs `fn` as one transaction; see {@link JobTransaction}. */
  runTransaction<T>(fn: (tx: JobTransaction) => Promise<T>, options?: CallOptions): Promise<T>;
}
