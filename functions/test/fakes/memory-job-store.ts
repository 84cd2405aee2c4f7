/**
 * An in-memory JobStore for engine tests, faithful to the port's contract (see the conformance
 * suite): documents are stored as JSON so every read is a fresh copy, and transactions are
 * optimistic like Firestore's (reads remember a revision, a changed one re-runs the function).
 */
import { lifeboatError } from '../../src/core/errors';
import type { BackupJob, ChunkBatch, ChunkIndexEntry, ChunkRecord, Schedule, Snapshot } from '../../src/core/model';
import type {
  CallOptions,
  ChunkTotals,
  DueSchedulesQuery,
  KnownTotals,
  JobStore,
  JobTouch,
  JobTransaction,
  ListChunkBatchesQuery,
  ListChunkIndexQuery,
  ListChunksQuery,
  ListJobsQuery,
  ListSnapshotsQuery,
  Page,
  ProgressDeltas,
} from '../../src/ports';
import { throwIfAborted } from '../../src/ports/cancellation';
import { BufferedTransaction, runOptimisticTransaction, type OptimisticStore } from '../../src/ports/optimistic-transaction';
import { checkPageLimit, decodePageCursor, encodePageCursor } from '../../src/ports/paging';
import { applyProgressDeltas, checkProgressDeltas } from '../../src/ports/progress-deltas';
import { sumChunkTotals, sumKnownTotals } from '../../src/ports/chunk-totals';

const MAX_INDEX_KEYS = 500;

type Collection = 'jobs' | 'chunks' | 'chunkBatches' | 'snapshots' | 'schedules';

interface Versioned {
  rev: number;
  json: string;
}

interface Read {
  collection: Collection;
  key: string;
  rev: number;
}

type Write =
  | { kind: 'set'; collection: Collection; key: string; json: string }
  | { kind: 'delete'; collection: Collection; key: string }
  | { kind: 'increment'; key: string; deltas: ProgressDeltas; touch: JobTouch };

function chunkKey(jobId: string, chunkId: string): string {
  return JSON.stringify([jobId, chunkId]);
}

class MemoryTransaction extends BufferedTransaction<Read, Write> implements JobTransaction {
  constructor(
    private readonly load: (collection: Collection, key: string) => Versioned | undefined,
    signal: AbortSignal | undefined,
  ) {
    super(signal);
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

  async getChunkBatch(jobId: string, batchId: string): Promise<ChunkBatch | null> {
    return this.read<ChunkBatch>('chunkBatches', chunkKey(jobId, batchId));
  }

  setJob(job: BackupJob): void {
    this.write({ kind: 'set', collection: 'jobs', key: job.id, json: JSON.stringify(job) });
  }

  incrementJob(jobId: string, deltas: ProgressDeltas, touch: JobTouch = {}): void {
    this.write({ kind: 'increment', key: jobId, ...checkProgressDeltas(deltas, touch) });
  }

  setChunk(chunk: ChunkRecord): void {
    this.write({ kind: 'set', collection: 'chunks', key: chunkKey(chunk.jobId, chunk.id), json: JSON.stringify(chunk) });
  }

  setChunkBatch(batch: ChunkBatch): void {
    this.write({ kind: 'set', collection: 'chunkBatches', key: chunkKey(batch.jobId, batch.id), json: JSON.stringify(batch) });
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

  deleteSnapshot(snapshotId: string): void {
    this.write({ kind: 'delete', collection: 'snapshots', key: snapshotId });
  }

  private read<T>(collection: Collection, key: string): T | null {
    this.beforeRead();
    const row = this.load(collection, key);
    this.remember(`${collection}/${key}`, { collection, key, rev: row?.rev ?? 0 });
    return row ? (JSON.parse(row.json) as T) : null;
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
    chunkBatches: new Map(),
    snapshots: new Map(),
    schedules: new Map(),
  };
  private readonly chunkIndex = new Map<string, string>();
  /** Global revision counter: a deleted and re-created document never reuses a revision. */
  private revision = 0;
  private readonly optimistic: OptimisticStore<MemoryTransaction> = {
    begin: (signal) => new MemoryTransaction((collection, key) => this.docs[collection].get(key), signal),
    readsCurrent: (tx) => this.readsCurrent(tx),
    commit: (tx) => this.commit(tx),
    backoff,
  };

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
    const limit = checkPageLimit(query.limit, 20, 100);
    const jobs = this.all<BackupJob>('jobs').filter(
      (job) => job.uid === query.uid && (query.status === undefined || job.status === query.status),
    );
    return newestFirstPage(jobs, limit, query.cursor);
  }

  async listChunks(jobId: string, query: ListChunksQuery = {}, options: CallOptions = {}): Promise<Page<ChunkRecord>> {
    throwIfAborted(options.signal);
    const limit = checkPageLimit(query.limit, 100, 500);
    const after = query.cursor === undefined ? undefined : decodePageCursor(query.cursor);
    const chunks = this.all<ChunkRecord>('chunks')
      .filter((c) => c.jobId === jobId)
      .filter((c) => !after || c.index > after[0] || (c.index === after[0] && c.id > after[1]))
      .sort((a, b) => a.index - b.index || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return page(chunks, limit, (c) => [c.index, c.id]);
  }

  async listChunkBatches(jobId: string, query: ListChunkBatchesQuery = {}, options: CallOptions = {}): Promise<Page<ChunkBatch>> {
    throwIfAborted(options.signal);
    const limit = checkPageLimit(query.limit, 20, 100);
    const after = query.cursor === undefined ? undefined : decodePageCursor(query.cursor);
    const batches = this.all<ChunkBatch>('chunkBatches')
      .filter((b) => b.jobId === jobId)
      .filter((b) => !after || b.firstIndex > after[0] || (b.firstIndex === after[0] && b.id > after[1]))
      .sort((a, b) => a.firstIndex - b.firstIndex || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return page(batches, limit, (b) => [b.firstIndex, b.id]);
  }

  async chunkTotals(jobId: string, options: CallOptions = {}): Promise<ChunkTotals> {
    throwIfAborted(options.signal);
    return sumChunkTotals(this.all<ChunkRecord>('chunks').filter((c) => c.jobId === jobId));
  }

  async knownTotals(jobId: string, options: CallOptions = {}): Promise<KnownTotals> {
    throwIfAborted(options.signal);
    return sumKnownTotals(this.all<ChunkBatch>('chunkBatches').filter((b) => b.jobId === jobId));
  }

  async deleteJobChunks(jobId: string, limit: number, options: CallOptions = {}): Promise<{ deleted: number; more: boolean }> {
    throwIfAborted(options.signal);
    checkPageLimit(limit, 500, 500);
    const prefix = JSON.stringify([jobId, '']).slice(0, -2);
    const keys = (['chunks', 'chunkBatches'] as const).flatMap((collection) => [...this.docs[collection].keys()].filter((k) => k.startsWith(prefix)).map((key) => ({ collection, key })));
    const doomed = keys.slice(0, limit);
    this.revision += 1;
    for (const { collection, key } of doomed) this.docs[collection].delete(key);
    return { deleted: doomed.length, more: keys.length > doomed.length };
  }

  async deleteUserDocuments(uid: string, limit: number, options: CallOptions = {}): Promise<{ deleted: number; more: boolean }> {
    throwIfAborted(options.signal);
    checkPageLimit(limit, 500, 500);
    const owned = (collection: 'snapshots' | 'schedules' | 'jobs') => [...this.docs[collection]].filter(([, row]) => (JSON.parse(row.json) as { uid: string }).uid === uid).map(([key]) => key).sort();
    // In the order the port promises: a job after its chunks and batches.
    const candidates: Array<{ collection: Collection | 'chunkIndex'; key: string }> = [
      ...owned('snapshots').map((key) => ({ collection: 'snapshots' as const, key })),
      ...owned('schedules').map((key) => ({ collection: 'schedules' as const, key })),
      ...owned('jobs').flatMap((jobId) => {
        const prefix = JSON.stringify([jobId, '']).slice(0, -2);
        const registration = (['chunks', 'chunkBatches'] as const).flatMap((collection) => [...this.docs[collection].keys()].filter((k) => k.startsWith(prefix)).map((key) => ({ collection, key })));
        return [...registration, { collection: 'jobs' as const, key: jobId }];
      }),
      ...[...this.chunkIndex.keys()].filter((k) => (JSON.parse(k) as [string, string])[0] === uid).map((key) => ({ collection: 'chunkIndex' as const, key })),
    ];
    const doomed = candidates.slice(0, limit);
    this.revision += 1;
    for (const { collection, key } of doomed) {
      if (collection === 'chunkIndex') this.chunkIndex.delete(key);
      else this.docs[collection].delete(key);
    }
    return { deleted: doomed.length, more: candidates.length > doomed.length };
  }

  /** Every document held, as stored (tests scan them for what must be gone). */
  dump(): string[] {
    return [...Object.values(this.docs).flatMap((docs) => [...docs].map(([key, row]) => `${key} ${row.json}`)), ...[...this.chunkIndex].map(([key, json]) => `${key} ${json}`)];
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

  async listChunkIndex(query: ListChunkIndexQuery, options: CallOptions = {}): Promise<Page<ChunkIndexEntry>> {
    throwIfAborted(options.signal);
    const limit = checkPageLimit(query.limit, 100, 500);
    const after = query.cursor === undefined ? undefined : decodePageCursor(query.cursor)[1];
    const entries = [...this.chunkIndex.values()]
      .map((json) => JSON.parse(json) as ChunkIndexEntry)
      .filter((e) => e.uid === query.uid && (after === undefined || e.key > after))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return page(entries, limit, (e) => [0, e.key]);
  }

  async deleteChunkIndex(uid: string, keys: readonly string[], options: CallOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
    if (keys.length > MAX_INDEX_KEYS) throw lifeboatError('invalid-argument', `at most ${MAX_INDEX_KEYS} keys per delete`);
    for (const key of keys) this.chunkIndex.delete(JSON.stringify([uid, key]));
  }

  async getSnapshot(snapshotId: string, options: CallOptions = {}): Promise<Snapshot | null> {
    throwIfAborted(options.signal);
    return this.get<Snapshot>('snapshots', snapshotId);
  }

  async listSnapshots(query: ListSnapshotsQuery, options: CallOptions = {}): Promise<Page<Snapshot>> {
    throwIfAborted(options.signal);
    const limit = checkPageLimit(query.limit, 20, 100);
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
    const limit = checkPageLimit(query.limit, 50, 2000);
    const after = query.after;
    return this.all<Schedule>('schedules')
      .filter((s) => s.enabled && s.nextRunAt <= query.dueBy)
      .filter((s) => !after || s.nextRunAt > after.nextRunAt || (s.nextRunAt === after.nextRunAt && s.id > after.id))
      .sort((a, b) => a.nextRunAt - b.nextRunAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, limit);
  }

  async runTransaction<T>(fn: (tx: JobTransaction) => Promise<T>, options: CallOptions = {}): Promise<T> {
    return runOptimisticTransaction(this.optimistic, fn, options.signal);
  }

  private get<T>(collection: Collection, key: string): T | null {
    const row = this.docs[collection].get(key);
    return row ? (JSON.parse(row.json) as T) : null;
  }

  private all<T>(collection: Collection): T[] {
    return [...this.docs[collection].values()].map((row) => JSON.parse(row.json) as T);
  }

  private readsCurrent(tx: MemoryTransaction): boolean {
    for (const read of tx.reads.values()) {
      if ((this.docs[read.collection].get(read.key)?.rev ?? 0) !== read.rev) return false;
    }
    return true;
  }

  /** Synchronous, so no other transaction can slip between the check and the writes. */
  private commit(tx: MemoryTransaction): boolean {
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
        const job = applyProgressDeltas(JSON.parse(row.json) as BackupJob, write.deltas, write.touch);
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
  return sorted.length > limit && last !== undefined ? { items, nextCursor: encodePageCursor(sortKey(last)) } : { items };
}

function newestFirstPage<T extends { createdAt: number; id: string }>(
  docs: T[],
  limit: number,
  cursor: string | undefined,
): Page<T> {
  const after = cursor === undefined ? undefined : decodePageCursor(cursor);
  const sorted = docs
    .filter((d) => !after || d.createdAt < after[0] || (d.createdAt === after[0] && d.id < after[1]))
    .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  return page(sorted, limit, (d) => [d.createdAt, d.id]);
}
