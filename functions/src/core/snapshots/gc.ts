/**
 * Garbage collection of one user's blobs: mark and sweep (docs/invariants.md, "Garbage
 * collection").
 *
 * Mark: every surviving snapshot's manifest and the blobs its items name, the chunk results of
 * the snapshot's job (so the chunk index keeps deduplicating them), and for failed jobs that may
 * still be retried their processed chunks' results and the blobs those name.
 * Sweep, in the reverse of the write order: chunk-index entries whose result is swept, then
 * unmarked blobs older than the grace period, then raw uploads of finished jobs.
 *
 * Safety against a running backup comes from the per-user lease (`gc-lease.ts`): the run writes
 * its lease, then defers if any job of the user is queued, running or paused (or failed within the
 * grace period), while backup steps check the lease once their job is active, before they reuse
 * a blob or an index entry. The lease is short and renewed while the run works; the run deletes
 * only while it holds it.
 */
import type { BlobStore, CallOptions, Clock, JobStore, KeyRing, Logger } from '../../ports';
import { ContentStore } from '../content-store';
import { hasCode, lifeboatError, messageOf } from '../errors';
import { uploadPrefix } from '../keys';
import { ChunkResult, type BackupJob, type JobStatus, type NodeEntry, type SegmentEntry, type Snapshot } from '../model';
import { DEFAULT_GC_LEASE_MS, HeldGcLease, removeExpiredGcLeases } from './gc-lease';
import { readNode } from './manifest-tree';
import { registeredChunks } from '../steps/registered-chunks';
import { openManifest, readSegment } from './snapshot-manifest';

/** Unreferenced blobs younger than this are kept, and failed jobs this recent defer GC. @default 1 hour */
export const DEFAULT_GC_GRACE_MS = 60 * 60_000;

export interface GcOptions extends CallOptions {
  /**
   * Unreferenced blobs younger than this are kept, and a failed job updated more recently defers
   * the run. Must exceed the longest step (Cloud Tasks' dispatch deadline, at most 30 minutes).
   * @default DEFAULT_GC_GRACE_MS (1 hour)
   */
  graceMs?: number;
  /** Report what would be deleted; delete nothing and take no lease. @default false */
  dryRun?: boolean;
  /**
   * Lifetime of each write of the run's lease, which is renewed every third of it while the run
   * works: the longest a crashed run blocks the user's backups. @default DEFAULT_GC_LEASE_MS (1 minute)
   */
  leaseMs?: number;
  /**
   * Stop deleting at this time (epoch ms) and report `stoppedEarly`, e.g. before a function's
   * timeout. @default no deadline
   */
  stopAt?: number;
}

export interface GcDeps {
  store: JobStore;
  blobs: BlobStore;
  keyRing?: KeyRing;
  clock: Clock;
  logger?: Logger;
}

export interface GcReport {
  uid: string;
  /** `deferred`: a job of the user may still reuse blobs, so nothing was swept. */
  status: 'done' | 'deferred';
  dryRun: boolean;
  /** Jobs that made the run defer. */
  deferredBy: Array<{ jobId: string; status: JobStatus }>;
  liveSnapshots: number;
  /** Distinct blobs found referenced (manifests, items, chunk results). */
  markedBlobs: number;
  /** Blobs in the user's namespace when the sweep listed it. */
  scannedBlobs: number;
  /** Unreferenced blobs kept because they are younger than the grace period. */
  youngBlobs: number;
  /** Blobs deleted (or, in a dry run, that would be). */
  deletedBlobs: number;
  deletedBytes: number;
  deletedIndexEntries: number;
  deletedUploads: number;
  /**
   * True when the run stopped deleting before it was done: its lease was lost (a renewal failed
   * or came late) or `stopAt` came; the next run carries on.
   */
  stoppedEarly: boolean;
  /** Why the run stopped early. */
  stopReason?: string;
}

const ACTIVE: readonly JobStatus[] = ['queued', 'running', 'paused'];
const INDEX_BATCH = 500;

async function* allJobs(store: JobStore, uid: string, status: JobStatus): AsyncGenerator<BackupJob> {
  let cursor: string | undefined;
  do {
    const page = await store.listJobs({ uid, status, limit: 100, ...(cursor ? { cursor } : {}) });
    yield* page.items;
    cursor = page.nextCursor;
  } while (cursor);
}

/** The results a job's chunks have: its records' and its registration batches' (known chunks). */
async function* processedResults(store: JobStore, jobId: string): AsyncGenerator<string> {
  for await (const chunk of registeredChunks(store, jobId)) if (chunk.resultRef) yield chunk.resultRef;
}

function hashOfKey(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

/**
 * Runs one mark-and-sweep over a user's blobs. Safe to run at any time and concurrently with
 * backups and with another run (each run has its own lease; deleting is idempotent).
 *
 * @throws LifeboatError `failed-precondition` when a surviving snapshot's manifest or a failed
 *   job's chunk result cannot be read: its blobs cannot be marked, so nothing is swept (run
 *   `verify`, then repair or forget the snapshot).
 */
export async function collectGarbage(deps: GcDeps, uid: string, options: GcOptions = {}): Promise<GcReport> {
  const graceMs = options.graceMs ?? DEFAULT_GC_GRACE_MS;
  const dryRun = options.dryRun ?? false;
  const signalOpt = options.signal ? { signal: options.signal } : {};
  const startedAt = deps.clock.now();
  const report: GcReport = {
    uid,
    status: 'done',
    dryRun,
    deferredBy: [],
    liveSnapshots: 0,
    markedBlobs: 0,
    scannedBlobs: 0,
    youngBlobs: 0,
    deletedBlobs: 0,
    deletedBytes: 0,
    deletedIndexEntries: 0,
    deletedUploads: 0,
    stoppedEarly: false,
  };

  // The lease comes first and the job scan second: a job that becomes active after the scan
  // finds the lease when its steps check it (gc-lease.ts).
  const lease = dryRun
    ? null
    : await HeldGcLease.acquire(deps, uid, { ttlMs: options.leaseMs ?? DEFAULT_GC_LEASE_MS, ...signalOpt, ...(deps.logger ? { logger: deps.logger } : {}) });
  lease?.startHeartbeat();
  try {
    const quietFailed: BackupJob[] = [];
    for (const status of ACTIVE) {
      for await (const job of allJobs(deps.store, uid, status)) report.deferredBy.push({ jobId: job.id, status });
    }
    for await (const job of allJobs(deps.store, uid, 'failed')) {
      // A failed job's last step may still be finishing (steps are bounded by their deadline,
      // which the grace period exceeds); after that, its chunks are fixed and can be marked.
      if (startedAt - job.updatedAt < graceMs) report.deferredBy.push({ jobId: job.id, status: 'failed' });
      else quietFailed.push(job);
    }
    if (report.deferredBy.length > 0) {
      report.status = 'deferred';
      return report;
    }

    const marked = await mark(deps, uid, quietFailed, report, signalOpt, lease);
    await sweep(deps, uid, marked, { graceMs, dryRun, startedAt, lease, stopAt: options.stopAt }, report, signalOpt);
    if (!dryRun) await removeExpiredGcLeases(deps.blobs, uid, deps.clock.now());
    deps.logger?.info('garbage collection done', { ...report, deferredBy: undefined });
    return report;
  } finally {
    await lease?.release();
  }
}

async function mark(deps: GcDeps, uid: string, quietFailed: readonly BackupJob[], report: GcReport, signalOpt: CallOptions, lease: HeldGcLease | null): Promise<Set<string>> {
  const content = new ContentStore(deps.blobs, deps.keyRing);
  const marked = new Set<string>();
  const snapshotsWithTrees = new Set<string>();
  /**
   * Marks a snapshot's manifest, every node and segment of its trees and every blob their items
   * name. A node or segment already marked was walked whole by an earlier snapshot of this run:
   * what snapshots share is read once.
   */
  const markSnapshot = async (content: ContentStore, snapshot: Snapshot, into: Set<string>, options: CallOptions) => {
    into.add(snapshot.manifestRef);
    const manifest = await openManifest(content, snapshot, options);
    if (manifest.format === 1) {
      for (const item of manifest.items) if (item.blob) into.add(item.blob);
      return;
    }
    snapshotsWithTrees.add(snapshot.id);
    const markNode = async (entry: NodeEntry): Promise<void> => {
      if (into.has(entry.ref)) return;
      const node = await readNode(content, uid, entry, options);
      if (node.level === 1) {
        for (const segment of node.entries as SegmentEntry[]) {
          if (into.has(segment.ref)) continue;
          for (const item of (await readSegment(content, uid, segment.ref, options)).items) if (item.blob) into.add(item.blob);
          into.add(segment.ref);
        }
      } else {
        for (const child of node.entries as NodeEntry[]) await markNode(child);
      }
      // Marked after its subtree: a run that failed half-way through it never counts it walked.
      into.add(entry.ref);
    };
    for (const { tree, watermarks } of manifest.root.types) {
      if (watermarks) into.add(watermarks);
      if (tree) await markNode(tree);
    }
  };
  let cursor: string | undefined;
  do {
    const page = await deps.store.listSnapshots({ uid, limit: 100, ...(cursor ? { cursor } : {}) }, signalOpt);
    for (const snapshot of page.items) {
      // Reading manifests can take long: the lease is renewed as the run goes.
      await lease?.keep();
      report.liveSnapshots += 1;
      try {
        await markSnapshot(content, snapshot, marked, signalOpt);
      } catch (err) {
        throw lifeboatError('failed-precondition', `garbage collection stopped before sweeping: snapshot ${snapshot.id}'s manifest is unreadable (${messageOf(err)}); verify it, then repair or forget it`, {
          cause: err,
          details: { snapshotId: snapshot.id },
        });
      }
      // Format 1: the job's chunk results back the chunk index; their items are the manifest's
      // items. (Format 2 names them as its segments.)
      if (!snapshotsWithTrees.has(snapshot.id)) for await (const ref of processedResults(deps.store, snapshot.jobId)) marked.add(ref);
    }
    cursor = page.nextCursor;
  } while (cursor);

  for (const job of quietFailed) {
    await lease?.keep();
    for await (const ref of processedResults(deps.store, job.id)) {
      if (marked.has(ref)) continue;
      marked.add(ref);
      let result: ChunkResult;
      try {
        result = ChunkResult.parse(JSON.parse(new TextDecoder().decode(await content.get(uid, ref, signalOpt))));
      } catch (err) {
        // Already gone: a retry of this job cannot finalize anyway, and nothing else names it.
        if (hasCode(err, 'not-found')) continue;
        throw lifeboatError('failed-precondition', `garbage collection stopped before sweeping: chunk result ${ref} of failed job ${job.id} is unreadable (${messageOf(err)})`, {
          cause: err,
          details: { jobId: job.id, blob: ref },
        });
      }
      for (const item of result.items) if (item.blob) marked.add(item.blob);
    }
  }
  report.markedBlobs = marked.size;
  return marked;
}

async function sweep(
  deps: GcDeps,
  uid: string,
  marked: ReadonlySet<string>,
  run: { graceMs: number; dryRun: boolean; startedAt: number; lease: HeldGcLease | null; stopAt: number | undefined },
  report: GcReport,
  signalOpt: CallOptions,
): Promise<void> {
  const cutoff = run.startedAt - run.graceMs;
  const isOld = (createdAt: number | undefined) => createdAt !== undefined && createdAt < cutoff;
  /** Whether the next delete may go ahead: renews the lease when due, and records why not. */
  const leaseLeft = async (): Promise<boolean> => {
    if (run.lease && !(await run.lease.keep())) {
      report.stopReason = `lease lost: ${run.lease.lost ?? 'it is about to end'}`;
      return false;
    }
    if (run.stopAt !== undefined && deps.clock.now() >= run.stopAt) {
      report.stopReason = 'stopAt reached';
      return false;
    }
    return true;
  };
  const blobPrefix = `users/${uid}/blobs/`;

  const young = new Set<string>();
  const doomed: Array<{ key: string; size: number }> = [];
  for await (const info of deps.blobs.list(blobPrefix, signalOpt)) {
    report.scannedBlobs += 1;
    const hash = hashOfKey(info.key);
    if (marked.has(hash)) continue;
    if (isOld(info.createdAt)) doomed.push({ key: info.key, size: info.size });
    else young.add(hash);
  }
  report.youngBlobs = young.size;

  // Records before blobs: an index entry must never name a blob that is gone, or the next backup
  // would take the chunk as stored and finalize would find its result missing.
  let cursor: string | undefined;
  do {
    const page = await deps.store.listChunkIndex({ uid, limit: INDEX_BATCH, ...(cursor ? { cursor } : {}) }, signalOpt);
    const stale = page.items.filter((e) => !marked.has(e.resultRef) && !young.has(e.resultRef)).map((e) => e.key);
    if (stale.length > 0) {
      if (!(await leaseLeft())) {
        report.stoppedEarly = true;
        return;
      }
      if (!run.dryRun) await deps.store.deleteChunkIndex(uid, stale, signalOpt);
      report.deletedIndexEntries += stale.length;
    }
    cursor = page.nextCursor;
  } while (cursor);

  for (const blob of doomed) {
    if (!(await leaseLeft())) {
      report.stoppedEarly = true;
      return;
    }
    if (!run.dryRun) await deps.blobs.delete(blob.key, signalOpt);
    report.deletedBlobs += 1;
    report.deletedBytes += blob.size;
  }

  // Raw uploads of finished jobs that finalize or cancel failed to clean up.
  const jobs = new Map<string, BackupJob | null>();
  for await (const info of deps.blobs.list(`uploads/${uid}/`, signalOpt)) {
    const jobId = info.key.split('/')[2];
    if (!jobId || !info.key.startsWith(uploadPrefix(uid, jobId)) || !isOld(info.createdAt)) continue;
    if (!jobs.has(jobId)) jobs.set(jobId, await deps.store.getJob(jobId, signalOpt));
    const job = jobs.get(jobId);
    if (job && job.status !== 'completed' && job.status !== 'cancelled') continue;
    if (!(await leaseLeft())) {
      report.stoppedEarly = true;
      return;
    }
    if (!run.dryRun) await deps.blobs.delete(info.key, signalOpt);
    report.deletedUploads += 1;
  }
}
