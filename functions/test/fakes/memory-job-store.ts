/**
 * An in-memory JobStore for engine tests, faithful to the port's contract (see the conformance
 * suite): documents are stored as JSON so every read is a fresh copy, and transactions are
 * optimistic like Firestore's (reads remember a revision, a changed one re-runs the function).
 */
import { lifeboatError } from '../../src/core/errors';
import {
  BACKUP_TYPES,
  emptyProgress,
  type BackupJob,
  type ChunkIndexEntry,
  type ChunkRecord,
  type Schedule,
  type Snapshot,
} from '../../src/core/model';
import type {
  CallOptions,
  DueSchedulesQuery,
  JobStore,
  JobTouch,
  JobTransaction,
  ListChunksQuery,
  ListJobsQuery,
  ListSnapshotsQuery,
  Page,
  ProgressDeltas,
} from '../../src/ports';

const MAX_ATTEMPTS = 25;
const MAX_WRITES = 500;
const MAX_INDEX_KEYS = 500;

type Collection = 'jobs' | 'chunks' | 'snapshots' | 'schedules';

interface Versioned {
  rev: number;
  json: string;
}

type Write =
  | { kind: 'set'; collection: Collection; key: string; json: string }
  | { kind: 'delete'; collection: Collection; key: string }
  | { kind: 'increment'; key: string; deltas: ProgressDeltas; touch: JobTouch };

const COUNTERS: readonly string[] = Object.keys(emptyProgress()).filter((name) => name !== 'byType');
const TYPE_FIELDS = ['items', 'skipped', 'bytes'] as const;

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw lifeboatError('cancelled', 'the call was cancelled');
}

function chunkKey(jobId: string, chunkId: string): string {
  return JSON.stringify([jobId, chunkId]);
}

function checkLimit(limit: number | undefined, fallback: number, max: number): number {
  const value = limit ?? fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw lifeboatError('invalid-argument', `limit must be an integer from 1 to ${max}`, { details: { limit } });
  }
  return value;
}

function encodeCursor(sortKey: [number, string]): string {
  return Buffer.from(JSON.stringify(sortKey)).toString('base64url');
}

function decodeCursor(cursor: string): [number, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'number' && typeof value[1] === 'string') {
      return [value[0], value[1]];
    }
  } catch {
    // Falls through to the refusal below.
  }
  throw lifeboatError('invalid-argument', 'unknown cursor');
}

function checkInteger(value: unknown, what: string): void {
  if (value !== undefined && !Number.isSafeInteger(value)) {
    throw lifeboatError('invalid-argument', `${what} must be an integer`);
  }
}

/** Validates and copies increments at call time, so a caller mutating them later changes nothing. */
function checkedIncrement(deltas: ProgressDeltas, touch: JobTouch): { deltas: ProgressDeltas; touch: JobTouch } {
  for (const [name, amount] of Object.entries(deltas.counters ?? {})) {
    if (!COUNTERS.includes(name)) throw lifeboatError('invalid-argument', `unknown progress counter ${name}`);
    checkInteger(amount, name);
  }
  for (const [type, fields] of Object.entries(deltas.byType ?? {})) {
    if (!(BACKUP_TYPES as readonly string[]).includes(type)) throw lifeboatError('invalid-argument', `unknown type ${type}`);
    for (const [name, amount] of Object.entries(fields ?? {})) {
      if (!(TYPE_FIELDS as readonly string[]).includes(name)) throw lifeboatError('invalid-argument', `unknown field ${name}`);
      checkInteger(amount, `${type}.${name}`);
    }
  }
  checkInteger(touch.updatedAt, 'updatedAt');
  checkInteger(touch.heartbeatAt, 'heartbeatAt');
  return JSON.parse(JSON.stringify({ deltas, touch })) as { deltas: ProgressDeltas; touch: JobTouch };
}

function applyIncrement(job: BackupJob, deltas: ProgressDeltas, touch: JobTouch): BackupJob {
  const progress = job.progress;
  for (const [name, amount] of Object.entries(deltas.counters ?? {})) {
    const counter = name as Exclude<keyof typeof progress, 'byType'>;
    progress[counter] += amount ?? 0;
  }
  for (const type of BACKUP_TYPES) {
    const fields = deltas.byType?.[type];
    if (!fields) continue;
    const current = progress.byType[type] ?? { items: 0, skipped: 0, bytes: 0 };
    progress.byType[type] = {
      items: current.items + (fields.items ?? 0),
      skipped: current.skipped + (fields.skipped ?? 0),
      bytes: current.bytes + (fields.bytes ?? 0),
    };
  }
  if (touch.updatedAt !== undefined) job.updatedAt = touch.updatedAt;
  if (touch.heartbeatAt !== undefined) job.heartbeatAt = touch.heartbeatAt;
  return job;
}

/** Reads remember revisions (0 for absent), writes are buffered until commit. */
class BufferedTransaction implements JobTransaction {
  readonly reads = new Map<string, { collection: Collection; key: string; rev: number }>();
  readonly writes: Write[] = [];
  private open = true;

  constructor(
    private readonly load: (collection: Collection, key: string) => Versioned | undefined,
    private readonly signal: AbortSignal | undefined,
  ) {}

  close(): void {
    this.open = false;
  }

  async getJob(jobId: string): Promise<BackupJob | null> {
    return this.read<BackupJob>('jobs', jobId);
  }

  async getChunks(jobId: string, chunkIds: readonly string[]): Promise<(ChunkRecord | null)[]> {
    return chunkIds.map((chunkId) => this.read<ChunkRecord>('chunks', chunkKey(jobId, chunkId)));
  }

  async getSnapshot(snapshotId: string): Promise<Snapshot | null> {
    return this.read<Snapshot>('snapshots', snapshotId);
  }

  async getSchedule(scheduleId: string): Promise<Schedule | null> {
    return this.read<Schedule>('schedules', scheduleId);
  }

  setJob(job: BackupJob): void {
    this.write({ kind: 'set', collection: 'jobs', key: job.id, json: JSON.stringify(job) });
  }

  incrementJob(jobId: string, deltas: ProgressDeltas, touch: JobTouch = {}): void {
    this.write({ kind: 'increment', key: jobId, ...checkedIncrement(deltas, touch) });
  }

  setChunk(chunk: ChunkRecord): void {
    this.write({ kind: 'set', collection: 'chunks', key: chunkKey(chunk.jobId, chunk.id), json: JSON.stringify(chunk) });
  }

  setSnapshot(snapshot: Snapshot): void {
    this.write({ kind: 'set', collection: 'snapshots', key: snapshot.id, json: JSON.stringify(snapshot) });
  }

  setSchedule(schedule: Schedule): void {
    this.write({ kind: 'set', collection: 'schedules', key: schedule.id, json: JSON.stringify(schedule) });
  }

  deleteSchedule(scheduleId: string): void {
    this.write({ kind: 'delete', collection: 'schedules', key: scheduleId });
  }

  private read<T>(collection: Collection, key: string): T | null {
    this.checkOpen();
    if (this.writes.length > 0) {
      throw lifeboatError('failed-precondition', 'a transaction must do all its reads before its first write');
    }
    throwIfAborted(this.signal);
    const row = this.load(collection, key);
    const ref = `${collection}/${key}`;
    if (!this.reads.has(ref)) this.reads.set(ref, { collection, key, rev: row?.rev ?? 0 });
    return row ? (JSON.parse(row.json) as T) : null;
  }

  private write(write: Write): void {
    this.checkOpen();
    this.writes.push(write);
  }

  private checkOpen(): void {
    if (!this.open) throw lifeboatError('failed-precondition', 'the transaction is over');
  }
}

/** Yields a few microtasks, so contending transactions interleave differently on each retry. */
async function backoff(attempt: number): Promise<void> {
  const turns = Math.floor(Math.random() * Math.min(attempt * 4, 32));
  for (let i = 0; i <= turns; i += 1) await Promise.resolve();
}

export class MemoryJobStore implements JobStore {
  private readonly docs: Record<Collection, Map<string, Versioned>> = {
    jobs: new Map(),
    chunks: new Map(),
    snapshots: new Map(),
    schedules: new Map(),
  };
  private readonly chunkIndex = new Map<string, string>();
  /** Global revision counter: a deleted and re-created document never reuses a revision. */
  private revision = 0;

  async createJob(job: BackupJob, options: CallOptions = {}): Promise<{ created: boolean }> {
    throwIfAborted(options.signal);
    if (this.docs.jobs.has(job.id)) return { created: false };
    this.revision += 1;
    this.docs.jobs.set(job.id, { rev: this.revision, json: JSON.stringify(job) });
    return { created: true };
  }

  async getJob(jobId: string, options: CallOptions = {}): Promise<BackupJob | null> {
    throwIfAborted(options.signal);
    return this.get<BackupJob>('jobs', jobId);
  }

  async listJobs(query: ListJobsQuery, options: CallOptions = {}): Promise<Page<BackupJob>> {
    throwIfAborted(options.signal);
    const limit = checkLimit(query.limit, 20, 100);
    const jobs = this.all<BackupJob>('jobs').filter(
      (job) => job.uid === query.uid && (query.status === undefined || job.status === query.status),
    );
    return newestFirstPage(jobs, limit, query.cursor);
  }

  async listChunks(jobId: string, query: ListChunksQuery = {}, options: CallOptions = {}): Promise<Page<ChunkRecord>> {
    throwIfAborted(options.signal);
    const limit = checkLimit(query.limit, 100, 500);
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const chunks = this.all<ChunkRecord>('chunks')
      .filter((c) => c.jobId === jobId)
      .filter((c) => !after || c.index > after[0] || (c.index === after[0] && c.id > after[1]))
      .sort((a, b) => a.index - b.index || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return page(chunks, limit, (c) => [c.index, c.id]);
  }

  async getChunkIndex(uid: string, keys: readonly string[], options: CallOptions = {}): Promise<(ChunkIndexEntry | null)[]> {
    throwIfAborted(options.signal);
    if (keys.length > MAX_INDEX_KEYS) throw lifeboatError('invalid-argument', `at most ${MAX_INDEX_KEYS} keys per lookup`);
    return keys.map((key) => {
      const json = this.chunkIndex.get(JSON.stringify([uid, key]));
      return json === undefined ? null : (JSON.parse(json) as ChunkIndexEntry);
    });
  }

  async putChunkIndex(entry: ChunkIndexEntry, options: CallOptions = {}): Promise<{ created: boolean }> {
    throwIfAborted(options.signal);
    const key = JSON.stringify([entry.uid, entry.key]);
    if (this.chunkIndex.has(key)) return { created: false };
    this.chunkIndex.set(key, JSON.stringify(entry));
    return { created: true };
  }

  async getSnapshot(snapshotId: string, options: CallOptions = {}): Promise<Snapshot | null> {
    throwIfAborted(options.signal);
    return this.get<Snapshot>('snapshots', snapshotId);
  }

  async listSnapshots(query: ListSnapshotsQuery, options: CallOptions = {}): Promise<Page<Snapshot>> {
    throwIfAborted(options.signal);
    const limit = checkLimit(query.limit, 20, 100);
    return newestFirstPage(this.all<Snapshot>('snapshots').filter((s) => s.uid === query.uid), limit, query.cursor);
  }

  async getSchedule(scheduleId: string, options: CallOptions = {}): Promise<Schedule | null> {
    throwIfAborted(options.signal);
    return this.get<Schedule>('schedules', scheduleId);
  }

  async listSchedules(uid: string, options: CallOptions = {}): Promise<Schedule[]> {
    throwIfAborted(options.signal);
    return this.all<Schedule>('schedules')
      .filter((s) => s.uid === uid)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async listDueSchedules(query: DueSchedulesQuery, options: CallOptions = {}): Promise<Schedule[]> {
    throwIfAborted(options.signal);
    const limit = checkLimit(query.limit, 50, 500);
    return this.all<Schedule>('schedules')
      .filter((s) => s.enabled && s.nextRunAt <= query.dueBy)
      .sort((a, b) => a.nextRunAt - b.nextRunAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, limit);
  }

  async runTransaction<T>(fn: (tx: JobTransaction) => Promise<T>, options: CallOptions = {}): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      throwIfAborted(options.signal);
      const tx = new BufferedTransaction((collection, key) => this.docs[collection].get(key), options.signal);
      let result: T;
      try {
        result = await fn(tx);
      } catch (err) {
        // A function that failed on reads that have since changed saw an inconsistent view: re-run it.
        if (attempt < MAX_ATTEMPTS && !this.readsCurrent(tx)) {
          await backoff(attempt);
          continue;
        }
        throw err;
      } finally {
        tx.close();
      }
      throwIfAborted(options.signal);
      if (tx.writes.length > MAX_WRITES) {
        throw lifeboatError('invalid-argument', `a transaction may write at most ${MAX_WRITES} documents`);
      }
      if (this.commit(tx)) return result;
      if (attempt >= MAX_ATTEMPTS) {
        throw lifeboatError('aborted', `transaction gave up after ${MAX_ATTEMPTS} conflicting attempts`);
      }
      await backoff(attempt);
    }
  }

  private get<T>(collection: Collection, key: string): T | null {
    const row = this.docs[collection].get(key);
    return row ? (JSON.parse(row.json) as T) : null;
  }

  private all<T>(collection: Collection): T[] {
    return [...this.docs[collection].values()].map((row) => JSON.parse(row.json) as T);
  }

  private readsCurrent(tx: BufferedTransaction): boolean {
    for (const read of tx.reads.values()) {
      if ((this.docs[read.collection].get(read.key)?.rev ?? 0) !== read.rev) return false;
    }
    return true;
  }

  /** Synchronous, so no other transaction can slip between the check and the writes. */
  private commit(tx: BufferedTransaction): boolean {
    if (!this.readsCurrent(tx)) return false;
    const rev = this.revision + 1;
    const staged = new Map<string, { collection: Collection; key: string; row: Versioned | null }>();
    const current = (collection: Collection, key: string): Versioned | undefined => {
      const pending = staged.get(`${collection}/${key}`);
      return pending ? (pending.row ?? undefined) : this.docs[collection].get(key);
    };
    for (const write of tx.writes) {
      if (write.kind === 'increment') {
        const row = current('jobs', write.key);
        if (!row) throw lifeboatError('not-found', `no job ${write.key} to increment`);
        const job = applyIncrement(JSON.parse(row.json) as BackupJob, write.deltas, write.touch);
        staged.set(`jobs/${write.key}`, { collection: 'jobs', key: write.key, row: { rev, json: JSON.stringify(job) } });
      } else {
        const row = write.kind === 'set' ? { rev, json: write.json } : null;
        staged.set(`${write.collection}/${write.key}`, { collection: write.collection, key: write.key, row });
      }
    }
    this.revision = rev;
    for (const { collection, key, row } of staged.values()) {
      if (row) this.docs[collection].set(key, row);
      else this.docs[collection].delete(key);
    }
    return true;
  }
}

function page<T>(sorted: T[], limit: number, sortKey: (item: T) => [number, string]): Page<T> {
  const items = sorted.slice(0, limit);
  const last = items[items.length - 1];
  return sorted.length > limit && last !== undefined ? { items, nextCursor: encodeCursor(sortKey(last)) } : { items };
}

function newestFirstPage<T extends { createdAt: number; id: string }>(
  docs: T[],
  limit: number,
  cursor: string | undefined,
): Page<T> {
  const after = cursor === undefined ? undefined : decodeCursor(cursor);
  const sorted = docs
    .filter((d) => !after || d.createdAt < after[0] || (d.createdAt === after[0] && d.id < after[1]))
    .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  return page(sorted, limit, (d) => [d.createdAt, d.id]);
}
