/**
 * The AdminStore on Cloud Firestore: the job store's `backupJobs` and `snapshots` collections
 * read across users, and `queueSamples/{at}` of its own, under the same optional root.
 *
 * Job filters. Firestore serves a query from one index, and an index per combination of five
 * filters would be 32 indexes; so each query takes the filters one index (ADMIN_QUERIES) can
 * serve, in this order of preference (the most selective first):
 *   uid + status, uid + device, uid, status, type (array-contains), none;
 * with the time range on `createdAt`, which every one of them orders by. The filters left over
 * are applied to the documents read, at most SCAN_LIMIT per page: a page may then hold fewer
 * jobs than asked (the port's contract), with a cursor at the last document read.
 *
 * Users are the distinct `uid`s of the jobs, found with one single-document query per user
 * (`orderBy('uid').startAfter(previous).limit(1)`: a "skip scan" over the automatic single-field
 * index), so a page of users costs one read per user whatever their number of jobs.
 */
import { AggregateField, type Firestore, type Query } from '@google-cloud/firestore';
import type { z } from 'zod';
import { QueueSampleSchema } from '../core/admin/queue-sampler';
import { JOB_STATUSES, BackupJob, Snapshot, type JobStatus } from '../core/model';
import {
  checkPageLimit,
  decodePageCursor,
  decodeUserCursor,
  encodePageCursor,
  encodeUserCursor,
  throwIfAborted,
  type AdminJobsQuery,
  type AdminSnapshotsQuery,
  type AdminStore,
  type AdminUsersQuery,
  type CallOptions,
  type Page,
  type QueueSample,
} from '../ports';
import { toLifeboatError } from './adapter-errors';
import { fromDocument, toDocument } from './firestore-documents';
import { checkRoot, FirestoreLayout } from './firestore-layout';

/** Documents one job page reads at most when it filters some of them out itself. */
export const SCAN_LIMIT = 500;

/** The collection of queue samples (the admin surface's own). */
export const QUEUE_SAMPLES_COLLECTION = 'queueSamples';

/** Samples older than this are deleted when a new one is recorded. */
export const QUEUE_SAMPLE_RETENTION_MS = 7 * 24 * 3_600_000;

type JobFilter = 'uid' | 'status' | 'deviceId' | 'type';

/** The equality filters each indexed job query serves, most selective first (see ADMIN_QUERIES). */
export const JOB_QUERY_PLANS: readonly (readonly JobFilter[])[] = [['uid', 'status'], ['uid', 'deviceId'], ['uid'], ['status'], ['type'], []];

/** The plan for a query: the first whose filters are all given. */
export function jobQueryPlan(query: AdminJobsQuery): readonly JobFilter[] {
  const given = (f: JobFilter) => (f === 'type' ? query.type : query[f]) !== undefined;
  return JOB_QUERY_PLANS.find((plan) => plan.every(given)) ?? [];
}

function matches(job: BackupJob, query: AdminJobsQuery): boolean {
  return (
    (query.uid === undefined || job.uid === query.uid) &&
    (query.status === undefined || job.status === query.status) &&
    (query.deviceId === undefined || job.deviceId === query.deviceId) &&
    (query.type === undefined || job.types.includes(query.type))
  );
}

export class FirestoreAdminStore implements AdminStore {
  private readonly layout: FirestoreLayout;
  private readonly samples: string;

  /** @param options.root the document path the job store's collections live under. @default '' */
  constructor(
    private readonly db: Firestore,
    options: { root?: string } = {},
  ) {
    this.layout = new FirestoreLayout(options.root);
    this.samples = `${checkRoot(options.root)}${QUEUE_SAMPLES_COLLECTION}`;
  }

  async listJobs(query: AdminJobsQuery, options: CallOptions = {}): Promise<Page<BackupJob>> {
    throwIfAborted(options.signal);
    const limit = checkPageLimit(query.limit, 50, 100);
    const after = query.cursor === undefined ? undefined : decodePageCursor(query.cursor);
    const plan = jobQueryPlan(query);
    let q: Query = this.db.collection(this.layout.jobs());
    for (const filter of plan) {
      if (filter === 'type') q = q.where('types', 'array-contains', query.type);
      else q = q.where(filter, '==', query[filter]);
    }
    if (query.from !== undefined) q = q.where('createdAt', '>=', query.from);
    if (query.to !== undefined) q = q.where('createdAt', '<', query.to);
    q = q.orderBy('createdAt', 'desc').orderBy('id', 'desc');
    if (after) q = q.startAfter(...after);
    // Every filter served by the index: one page as the job store reads them.
    const residual = (['uid', 'status', 'deviceId', 'type'] as const).some((f) => (f === 'type' ? query.type : query[f]) !== undefined && !plan.includes(f));
    const batch = residual ? SCAN_LIMIT : limit;
    const snap = await this.call('list jobs', () => q.limit(batch + 1).get());
    throwIfAborted(options.signal);
    const read = snap.docs.slice(0, batch).map((doc) => fromDocument(BackupJob, doc.data(), `job ${doc.id}`));
    const items: BackupJob[] = [];
    let last: BackupJob | undefined;
    for (const job of read) {
      if (items.length === limit) break;
      last = job;
      if (matches(job, query)) items.push(job);
    }
    const more = snap.docs.length > batch || (last !== undefined && last !== read[read.length - 1]);
    return { items, ...(more && last ? { nextCursor: encodePageCursor([last.createdAt, last.id]) } : {}) };
  }

  async jobStatusCounts(options: CallOptions = {}): Promise<Partial<Record<JobStatus, number>>> {
    throwIfAborted(options.signal);
    const jobs = this.db.collection(this.layout.jobs());
    const counts = await Promise.all(
      JOB_STATUSES.map(async (status) => {
        const snap = await this.call(`count ${status} jobs`, () => jobs.where('status', '==', status).aggregate({ n: AggregateField.count() }).get());
        return [status, snap.data().n] as const;
      }),
    );
    return Object.fromEntries(counts.filter(([, n]) => n > 0));
  }

  async listUsers(query: AdminUsersQuery, options: CallOptions = {}): Promise<Page<string>> {
    throwIfAborted(options.signal);
    const limit = checkPageLimit(query.limit, 25, 100);
    let after = query.cursor === undefined ? undefined : decodeUserCursor(query.cursor);
    const items: string[] = [];
    // One more than the page, to know whether another follows.
    while (items.length <= limit) {
      let q: Query = this.db.collection(this.layout.jobs()).orderBy('uid');
      if (after !== undefined) q = q.startAfter(after);
      const snap = await this.call('list users', () => q.limit(1).select('uid').get());
      throwIfAborted(options.signal);
      const uid: unknown = snap.docs[0]?.get('uid');
      if (typeof uid !== 'string') break;
      items.push(uid);
      after = uid;
    }
    const page = items.slice(0, limit);
    const last = page[page.length - 1];
    return { items: page, ...(items.length > limit && last !== undefined ? { nextCursor: encodeUserCursor(last) } : {}) };
  }

  async listSnapshots(query: AdminSnapshotsQuery, options: CallOptions = {}): Promise<Page<Snapshot>> {
    throwIfAborted(options.signal);
    const limit = checkPageLimit(query.limit, 50, 100);
    const after = query.cursor === undefined ? undefined : decodePageCursor(query.cursor);
    let q: Query = this.db.collection(this.layout.snapshots());
    if (query.uid !== undefined) q = q.where('uid', '==', query.uid);
    q = q.orderBy('createdAt', 'desc').orderBy('id', 'desc');
    if (after) q = q.startAfter(...after);
    return this.page(q, limit, Snapshot, 'snapshot', (s) => [s.createdAt, s.id], options);
  }

  async countSnapshots(uid: string, options: CallOptions = {}): Promise<number> {
    throwIfAborted(options.signal);
    const q = this.db.collection(this.layout.snapshots()).where('uid', '==', uid).aggregate({ n: AggregateField.count() });
    return (await this.call('count snapshots', () => q.get())).data().n;
  }

  async snapshotIdsStartingWith(prefix: string, limit: number, uid?: string, options: CallOptions = {}): Promise<string[]> {
    throwIfAborted(options.signal);
    checkPageLimit(limit, limit, 100);
    // A range on `id` (automatic single-field index); the user is checked on what comes back.
    const q = this.db
      .collection(this.layout.snapshots())
      .where('id', '>=', prefix)
      .where('id', '<', `${prefix}\u{10FFFF}`)
      .orderBy('id')
      .limit(uid === undefined ? limit : SCAN_LIMIT)
      .select('id', 'uid');
    const snap = await this.call('find snapshots by prefix', () => q.get());
    return snap.docs
      .filter((d) => uid === undefined || d.get('uid') === uid)
      .map((d) => String(d.get('id')))
      .filter((id) => id.startsWith(prefix))
      .slice(0, limit);
  }

  async recordQueueSample(sample: QueueSample, options: CallOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
    // One document per time, named by it (zero-padded, so names sort as times do).
    const id = String(sample.at).padStart(15, '0');
    await this.call('record a queue sample', () => this.db.doc(`${this.samples}/${id}`).set(toDocument(sample)));
    const old = await this.call('list old queue samples', () => this.db.collection(this.samples).where('at', '<', sample.at - QUEUE_SAMPLE_RETENTION_MS).limit(100).select().get());
    if (old.docs.length > 0) {
      const batch = this.db.batch();
      for (const doc of old.docs) batch.delete(this.db.doc(doc.ref.path));
      await this.call('delete old queue samples', () => batch.commit());
    }
  }

  async listQueueSamples(since: number, limit: number, options: CallOptions = {}): Promise<QueueSample[]> {
    throwIfAborted(options.signal);
    checkPageLimit(limit, limit, 2000);
    const snap = await this.call('list queue samples', () => this.db.collection(this.samples).where('at', '>=', since).orderBy('at').limit(limit).get());
    return snap.docs.map((doc) => fromDocument(QueueSampleSchema, doc.data(), `queue sample ${doc.id}`));
  }

  private async page<S extends z.ZodType>(q: Query, limit: number, schema: S, what: string, sortKey: (item: z.output<S>) => [number, string], options: CallOptions): Promise<Page<z.output<S>>> {
    const snap = await this.call(`list ${what} documents`, () => q.limit(limit + 1).get());
    throwIfAborted(options.signal);
    const items = snap.docs.slice(0, limit).map((doc) => fromDocument(schema, doc.data(), `${what} ${doc.id}`));
    const last = items[items.length - 1];
    return { items, ...(snap.docs.length > limit && last !== undefined ? { nextCursor: encodePageCursor(sortKey(last)) } : {}) };
  }

  private async call<T>(what: string, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      throw toLifeboatError(err, what);
    }
  }
}
