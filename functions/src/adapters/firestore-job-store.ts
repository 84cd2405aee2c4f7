/**
 * JobStore on Cloud Firestore.
 *
 * Layout (see `firestore-layout.ts`), under an optional root document path:
 * `backupJobs/{jobId}`, `backupJobs/{jobId}/chunks/{chunkId}`, `users/{uid}/chunkIndex/{key}`,
 * `snapshots/{snapshotId}`, `schedules/{scheduleId}`. Each document is the model object as JSON
 * (epoch-millisecond times), checked against its schema when read (`firestore-documents.ts`).
 *
 * - Transactions are Firestore's own (`runTransaction`, up to 25 attempts as the port promises):
 *   the SDK locks what a transaction reads and re-runs it on contention. Writes are buffered and
 *   merged per document (`firestore-write-buffer.ts`) and handed to the SDK when the function
 *   returns; the port's call rules (no read after a write, nothing after the function returned,
 *   at most 500 writes) are checked here, with the same errors as the other stores.
 * - Counters use `FieldValue.increment` in an `update()`, which does not read the job.
 * - Creates-if-absent use `create()`: ALREADY_EXISTS means an earlier run (same id, derived from
 *   the work) created it, hence `created: false`.
 * - Listings are keyset pages over one collection (`startAfter` on the ordered fields); the
 *   composite indexes they need are listed in `FIRESTORE_QUERIES`.
 */
import { AggregateField, FieldPath, type DocumentSnapshot, type Firestore, type Query, type Transaction } from '@google-cloud/firestore';
import type { z } from 'zod';
import { lifeboatError } from '../core/errors';
import {
  BackupJob,
  CHUNK_STATES,
  ChunkBatch,
  ChunkIndexEntry,
  ChunkRecord,
  Schedule,
  Snapshot,
} from '../core/model';
import {
  BufferedTransaction,
  checkPageLimit,
  checkProgressDeltas,
  decodePageCursor,
  emptyChunkTotals,
  encodePageCursor,
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
  type Page,
  type ProgressDeltas,
} from '../ports';
import { GRPC_ALREADY_EXISTS, toLifeboatError } from './adapter-errors';
import { fromDocument, toDocument } from './firestore-documents';
import { COLLECTIONS, FirestoreLayout } from './firestore-layout';
import { FirestoreWriteBuffer, incrementUpdate } from './firestore-write-buffer';

export { FIRESTORE_QUERIES } from './firestore-queries';

const MAX_ATTEMPTS = 25;
const MAX_WRITES = 500;
const MAX_INDEX_KEYS = 500;

export interface FirestoreJobStoreOptions {
  /** A document path to nest every collection under (tests, several deployments in one database). @default '' */
  root?: string;
}

function isAlreadyExists(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === GRPC_ALREADY_EXISTS;
}

/** One attempt of a transaction: the port's call rules, reads through the SDK, writes buffered. */
class FirestoreJobTransaction extends BufferedTransaction<never, string> implements JobTransaction {
  readonly buffer = new FirestoreWriteBuffer();

  constructor(
    private readonly db: Firestore,
    private readonly tx: Transaction,
    private readonly layout: FirestoreLayout,
    signal: AbortSignal | undefined,
  ) {
    super(signal);
  }

  async getJob(jobId: string): Promise<BackupJob | null> {
    return this.read(this.layout.job(jobId), BackupJob, `job ${jobId}`);
  }

  async getChunks(jobId: string, chunkIds: readonly string[]): Promise<(ChunkRecord | null)[]> {
    this.beforeRead();
    if (chunkIds.length === 0) return [];
    const refs = chunkIds.map((chunkId) => this.db.doc(this.layout.chunk(jobId, chunkId)));
    const snaps = await this.tx.getAll(...refs);
    return snaps.map((snap, i) => (snap.exists ? fromDocument(ChunkRecord, snap.data(), `chunk ${jobId}/${chunkIds[i] ?? ''}`) : null));
  }

  async getSnapshot(snapshotId: string): Promise<Snapshot | null> {
    return this.read(this.layout.snapshot(snapshotId), Snapshot, `snapshot ${snapshotId}`);
  }

  async getSchedule(scheduleId: string): Promise<Schedule | null> {
    return this.read(this.layout.schedule(scheduleId), Schedule, `schedule ${scheduleId}`);
  }

  async getChunkBatch(jobId: string, batchId: string): Promise<ChunkBatch | null> {
    return this.read(this.layout.chunkBatch(jobId, batchId), ChunkBatch, `chunk batch ${jobId}/${batchId}`);
  }

  setJob(job: BackupJob): void {
    this.write('set');
    this.buffer.set(this.layout.job(job.id), job);
  }

  incrementJob(jobId: string, deltas: ProgressDeltas, touch?: JobTouch): void {
    const checked = checkProgressDeltas(deltas, touch);
    this.write('increment');
    this.buffer.increment(this.layout.job(jobId), checked.deltas, checked.touch);
  }

  setChunk(chunk: ChunkRecord): void {
    this.write('set');
    this.buffer.set(this.layout.chunk(chunk.jobId, chunk.id), chunk);
  }

  setChunkBatch(batch: ChunkBatch): void {
    this.write('set');
    this.buffer.set(this.layout.chunkBatch(batch.jobId, batch.id), batch);
  }

  setSnapshot(snapshot: Snapshot): void {
    this.write('set');
    this.buffer.set(this.layout.snapshot(snapshot.id), snapshot);
  }

  setSchedule(schedule: Schedule): void {
    this.write('set');
    this.buffer.set(this.layout.schedule(schedule.id), schedule);
  }

  deleteSchedule(scheduleId: string): void {
    this.write('delete');
    this.buffer.delete(this.layout.schedule(scheduleId));
  }

  deleteSnapshot(snapshotId: string): void {
    this.write('delete');
    this.buffer.delete(this.layout.snapshot(snapshotId));
  }

  /** Hands the merged writes to the SDK transaction, which commits them when the attempt returns. */
  flush(): void {
    if (this.writes.length > MAX_WRITES) {
      throw lifeboatError('invalid-argument', `a transaction may write at most ${MAX_WRITES} documents`);
    }
    for (const write of this.buffer.list()) {
      const ref = this.db.doc(write.path);
      if (write.kind === 'set') this.tx.set(ref, write.data);
      else if (write.kind === 'delete') this.tx.delete(ref);
      else this.tx.update(ref, incrementUpdate(write.deltas, write.touch));
    }
  }

  private async read<S extends z.ZodType>(path: string, schema: S, what: string): Promise<z.output<S> | null> {
    this.beforeRead();
    const snap = await this.tx.get(this.db.doc(path));
    return snap.exists ? fromDocument(schema, snap.data(), what) : null;
  }
}

/** {@link JobStore} on Firestore; see the module comment for the layout and the rules it follows. */
export class FirestoreJobStore implements JobStore {
  private readonly layout: FirestoreLayout;

  /**
   * @param db a Firestore instance (`getFirestore()` from firebase-admin/firestore).
   * @param options.root a document path to nest the collections under. @default ''
   */
  constructor(
    private readonly db: Firestore,
    options: FirestoreJobStoreOptions = {},
  ) {
    this.layout = new FirestoreLayout(options.root);
  }

  async createJob(job: BackupJob, options: CallOptions = {}): Promise<{ created: boolean }> {
    return this.create(this.layout.job(job.id), job, `create job ${job.id}`, options);
  }

  async getJob(jobId: string, options: CallOptions = {}): Promise<BackupJob | null> {
    return this.getDoc(this.layout.job(jobId), BackupJob, `job ${jobId}`, options);
  }

  async listJobs(query: ListJobsQuery, options: CallOptions = {}): Promise<Page<BackupJob>> {
    throwIfAborted(options.signal);
    const limit = checkPageLimit(query.limit, 20, 100);
    const q = this.ownedNewestFirst(this.layout.jobs(), query.uid, query.cursor, query.status);
    return this.page(q, limit, BackupJob, 'job', (job) => [job.createdAt, job.id], options);
  }

  async listChunks(jobId: string, query: ListChunksQuery = {}, options: CallOptions = {}): Promise<Page<ChunkRecord>> {
    throwIfAborted(options.signal);
    const limit = checkPageLimit(query.limit, 100, 500);
    const after = query.cursor === undefined ? undefined : decodePageCursor(query.cursor);
    let q: Query = this.db.collection(this.layout.chunks(jobId)).orderBy('index', 'asc').orderBy(FieldPath.documentId(), 'asc');
    // Chunk ids are SHA-256 hex, always their own document id.
    if (after) q = q.startAfter(after[0], after[1]);
    return this.page(q, limit, ChunkRecord, 'chunk', (chunk) => [chunk.index, chunk.id], options);
  }

  async listChunkBatches(jobId: string, query: ListChunkBatchesQuery = {}, options: CallOptions = {}): Promise<Page<ChunkBatch>> {
    throwIfAborted(options.signal);
    const limit = checkPageLimit(query.limit, 20, 100);
    const after = query.cursor === undefined ? undefined : decodePageCursor(query.cursor);
    let q: Query = this.db.collection(this.layout.chunkBatches(jobId)).orderBy('firstIndex', 'asc').orderBy(FieldPath.documentId(), 'asc');
    // Batch ids are SHA-256 hex, always their own document id.
    if (after) q = q.startAfter(after[0], after[1]);
    return this.page(q, limit, ChunkBatch, 'chunk batch', (batch) => [batch.firstIndex, batch.id], options);
  }

  /**
   * One aggregation query per state (count and sums over the job's chunk records): billed one
   * read per 1000 index entries matched, and served by the `(state, field)` indexes of
   * FIRESTORE_QUERIES, so no chunk document is read.
   */
  async chunkTotals(jobId: string, options: CallOptions = {}): Promise<ChunkTotals> {
    throwIfAborted(options.signal);
    const totals = emptyChunkTotals();
    const chunks = this.db.collection(this.layout.chunks(jobId));
    await Promise.all(
      CHUNK_STATES.map(async (state) => {
        // An aggregation query takes at most five aggregations.
        const filtered = chunks.where('state', '==', state);
        const [a, b] = await Promise.all([
          this.call(`sum ${state} chunks`, () =>
            filtered.aggregate({ chunks: AggregateField.count(), items: AggregateField.sum('items'), bytes: AggregateField.sum('size'), processedItems: AggregateField.sum('processedItems') }).get(),
          ),
          this.call(`sum ${state} chunks`, () => filtered.aggregate({ skippedItems: AggregateField.sum('skippedItems'), storedBytes: AggregateField.sum('storedBytes') }).get()),
        ]);
        const x = a.data();
        const y = b.data();
        totals[state] = {
          chunks: x.chunks,
          items: x.items ?? 0,
          bytes: x.bytes ?? 0,
          processedItems: x.processedItems ?? 0,
          skippedItems: y.skippedItems ?? 0,
          storedBytes: y.storedBytes ?? 0,
        };
      }),
    );
    return totals;
  }

  /** One aggregation query over the job's registration batches (their `totals.*` fields keep their automatic single-field indexes). */
  async knownTotals(jobId: string, options: CallOptions = {}): Promise<KnownTotals> {
    throwIfAborted(options.signal);
    const q = this.db.collection(this.layout.chunkBatches(jobId)).aggregate({
      chunks: AggregateField.sum('totals.chunks'),
      items: AggregateField.sum('totals.items'),
      skipped: AggregateField.sum('totals.skipped'),
      bytes: AggregateField.sum('totals.bytes'),
    });
    const data = (await this.call('sum registration batches', () => q.get())).data();
    return { chunks: data.chunks ?? 0, items: data.items ?? 0, skipped: data.skipped ?? 0, bytes: data.bytes ?? 0 };
  }

  async deleteJobChunks(jobId: string, limit: number, options: CallOptions = {}): Promise<{ deleted: number; more: boolean }> {
    throwIfAborted(options.signal);
    checkPageLimit(limit, 500, 500);
    const refs: Array<{ path: string }> = [];
    for (const collection of [this.layout.chunks(jobId), this.layout.chunkBatches(jobId)]) {
      if (refs.length >= limit) break;
      const snap = await this.call('list registration state', () => this.db.collection(collection).select().limit(limit - refs.length + 1).get());
      for (const doc of snap.docs) refs.push(doc.ref);
    }
    const doomed = refs.slice(0, limit);
    if (doomed.length > 0) {
      const batch = this.db.batch();
      for (const ref of doomed) batch.delete(this.db.doc(ref.path));
      await this.call('delete registration state', () => batch.commit());
    }
    return { deleted: doomed.length, more: refs.length > doomed.length };
  }

  /**
   * Single-field queries only (`uid ==` on snapshots, schedules and jobs, and whole collections
   * under a job and `users/{uid}`): the automatic indexes serve them. One candidate more than the
   * limit is looked for, so `more` is exact; the deletes go in one batch.
   */
  async deleteUserDocuments(uid: string, limit: number, options: CallOptions = {}): Promise<{ deleted: number; more: boolean }> {
    throwIfAborted(options.signal);
    checkPageLimit(limit, 500, 500);
    const found: string[] = [];
    const want = () => limit + 1 - found.length;
    const paths = async (q: Query, what: string) => (await this.call(what, () => q.select().limit(want()).get())).docs.map((doc) => doc.ref.path);
    for (const collection of [this.layout.snapshots(), this.layout.schedules()]) {
      if (want() > 0) found.push(...(await paths(this.db.collection(collection).where('uid', '==', uid), `list ${uid}'s documents`)));
    }
    if (want() > 0) {
      const jobs = await paths(this.db.collection(this.layout.jobs()).where('uid', '==', uid), `list ${uid}'s jobs`);
      for (const jobPath of jobs) {
        if (want() <= 0) break;
        const jobId = jobPath.slice(jobPath.lastIndexOf('/') + 1);
        for (const collection of [`${jobPath}/${COLLECTIONS.chunks}`, `${jobPath}/${COLLECTIONS.chunkBatches}`]) {
          if (want() > 0) found.push(...(await paths(this.db.collection(collection), `list registration state of ${jobId}`)));
        }
        // The job after its registration state: a call that stops between them finds the job again.
        if (want() > 0) found.push(jobPath);
      }
    }
    if (want() > 0) found.push(...(await paths(this.db.collection(this.layout.chunkIndex(uid)), `list ${uid}'s chunk index`)));
    const doomed = found.slice(0, limit);
    if (doomed.length > 0) {
      const batch = this.db.batch();
      for (const path of doomed) batch.delete(this.db.doc(path));
      await this.call(`delete ${uid}'s documents`, () => batch.commit());
    }
    return { deleted: doomed.length, more: found.length > doomed.length };
  }

  async getChunkIndex(uid: string, keys: readonly string[], options: CallOptions = {}): Promise<(ChunkIndexEntry | null)[]> {
    throwIfAborted(options.signal);
    if (keys.length > MAX_INDEX_KEYS) throw lifeboatError('invalid-argument', `at most ${MAX_INDEX_KEYS} keys per lookup`);
    if (keys.length === 0) return [];
    const refs = keys.map((key) => this.db.doc(this.layout.chunkIndexEntry(uid, key)));
    const snaps = await this.call('read the chunk index', () => this.db.getAll(...refs));
    return snaps.map((snap, i) => (snap.exists ? fromDocument(ChunkIndexEntry, snap.data(), `chunk index ${keys[i] ?? ''}`) : null));
  }

  async putChunkIndex(entry: ChunkIndexEntry, options: CallOptions = {}): Promise<{ created: boolean }> {
    return this.create(this.layout.chunkIndexEntry(entry.uid, entry.key), entry, `index chunk ${entry.key}`, options);
  }

  async listChunkIndex(query: ListChunkIndexQuery, options: CallOptions = {}): Promise<Page<ChunkIndexEntry>> {
    throwIfAborted(options.signal);
    const limit = checkPageLimit(query.limit, 100, 500);
    const after = query.cursor === undefined ? undefined : decodePageCursor(query.cursor)[1];
    // Ordered by the `key` field, not the document id: an encoded id (firestore-layout.ts) sorts apart.
    let q: Query = this.db.collection(this.layout.chunkIndex(query.uid)).orderBy('key', 'asc');
    if (after !== undefined) q = q.startAfter(after);
    return this.page(q, limit, ChunkIndexEntry, 'chunk index entry', (entry) => [0, entry.key], options);
  }

  async deleteChunkIndex(uid: string, keys: readonly string[], options: CallOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
    if (keys.length > MAX_INDEX_KEYS) throw lifeboatError('invalid-argument', `at most ${MAX_INDEX_KEYS} keys per delete`);
    if (keys.length === 0) return;
    const batch = this.db.batch();
    // Deleting a missing document is a no-op in Firestore, as the port asks.
    for (const key of keys) batch.delete(this.db.doc(this.layout.chunkIndexEntry(uid, key)));
    await this.call('delete chunk index entries', () => batch.commit());
  }

  async getSnapshot(snapshotId: string, options: CallOptions = {}): Promise<Snapshot | null> {
    return this.getDoc(this.layout.snapshot(snapshotId), Snapshot, `snapshot ${snapshotId}`, options);
  }

  async listSnapshots(query: ListSnapshotsQuery, options: CallOptions = {}): Promise<Page<Snapshot>> {
    throwIfAborted(options.signal);
    const limit = checkPageLimit(query.limit, 20, 100);
    const q = this.ownedNewestFirst(this.layout.snapshots(), query.uid, query.cursor);
    return this.page(q, limit, Snapshot, 'snapshot', (snapshot) => [snapshot.createdAt, snapshot.id], options);
  }

  /**
   * A user's documents in `collection` (optionally of one status), newest first with ties broken
   * by id, from after `cursor`: the order of listJobs and listSnapshots and their indexes in
   * FIRESTORE_QUERIES.
   */
  private ownedNewestFirst(collection: string, uid: string, cursor: string | undefined, status?: string): Query {
    const after = cursor === undefined ? undefined : decodePageCursor(cursor);
    let q: Query = this.db.collection(collection).where('uid', '==', uid);
    if (status !== undefined) q = q.where('status', '==', status);
    q = q.orderBy('createdAt', 'desc').orderBy('id', 'desc');
    return after ? q.startAfter(...after) : q;
  }

  async getSchedule(scheduleId: string, options: CallOptions = {}): Promise<Schedule | null> {
    return this.getDoc(this.layout.schedule(scheduleId), Schedule, `schedule ${scheduleId}`, options);
  }

  async listSchedules(uid: string, options: CallOptions = {}): Promise<Schedule[]> {
    throwIfAborted(options.signal);
    const q = this.db.collection(this.layout.schedules()).where('uid', '==', uid);
    const snap = await this.call('list schedules', () => q.get());
    const schedules = snap.docs.map((doc) => fromDocument(Schedule, doc.data(), `schedule ${doc.id}`));
    // Sorted here rather than by the query: an id stored encoded (firestore-layout.ts) sorts apart.
    return schedules.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async listDueSchedules(query: DueSchedulesQuery, options: CallOptions = {}): Promise<Schedule[]> {
    throwIfAborted(options.signal);
    const limit = checkPageLimit(query.limit, 50, 2000);
    // Firestore orders by document id after the last orderBy: the id tie-break of the port. An
    // encoded id (firestore-layout.ts) sorts apart from its model id; schedule ids are never encoded.
    let q: Query = this.db
      .collection(this.layout.schedules())
      .where('enabled', '==', true)
      .where('nextRunAt', '<=', query.dueBy)
      .orderBy('nextRunAt', 'asc')
      .orderBy(FieldPath.documentId(), 'asc');
    if (query.after) q = q.startAfter(query.after.nextRunAt, query.after.id);
    const snap = await this.call('list due schedules', () => q.limit(limit).get());
    return snap.docs.map((doc) => fromDocument(Schedule, doc.data(), `schedule ${doc.id}`));
  }

  async runTransaction<T>(fn: (tx: JobTransaction) => Promise<T>, options: CallOptions = {}): Promise<T> {
    throwIfAborted(options.signal);
    return this.call('transaction', () =>
      this.db.runTransaction(
        async (sdkTx) => {
          const tx = new FirestoreJobTransaction(this.db, sdkTx, this.layout, options.signal);
          try {
            const result = await fn(tx);
            throwIfAborted(options.signal);
            tx.flush();
            return result;
          } finally {
            tx.close();
          }
        },
        { maxAttempts: MAX_ATTEMPTS },
      ),
    );
  }

  private async create(path: string, value: object, what: string, options: CallOptions): Promise<{ created: boolean }> {
    throwIfAborted(options.signal);
    const data = toDocument(value);
    try {
      await this.db.doc(path).create(data);
      return { created: true };
    } catch (err) {
      // ALREADY_EXISTS: the id derives from the work, so the existing document is an earlier run's.
      if (isAlreadyExists(err)) return { created: false };
      throw toLifeboatError(err, what);
    }
  }

  private async getDoc<S extends z.ZodType>(path: string, schema: S, what: string, options: CallOptions): Promise<z.output<S> | null> {
    throwIfAborted(options.signal);
    const snap: DocumentSnapshot = await this.call(`read ${what}`, () => this.db.doc(path).get());
    return snap.exists ? fromDocument(schema, snap.data(), what) : null;
  }

  /**
   * Runs a keyset query for one page: asks one document more than the page, so the last page has
   * no cursor. The cursor is the page's last sort key, the same opaque format as the other stores.
   */
  private async page<S extends z.ZodType>(
    q: Query,
    limit: number,
    schema: S,
    what: string,
    sortKey: (item: z.output<S>) => [number, string],
    options: CallOptions,
  ): Promise<Page<z.output<S>>> {
    const snap = await this.call(`list ${what} documents`, () => q.limit(limit + 1).get());
    throwIfAborted(options.signal);
    const items = snap.docs.slice(0, limit).map((doc) => fromDocument(schema, doc.data(), `${what} ${doc.id}`));
    const page: Page<z.output<S>> = { items };
    const last = items[items.length - 1];
    if (snap.docs.length > limit && last !== undefined) page.nextCursor = encodePageCursor(sortKey(last));
    return page;
  }

  private async call<T>(what: string, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      throw toLifeboatError(err, what);
    }
  }
}
