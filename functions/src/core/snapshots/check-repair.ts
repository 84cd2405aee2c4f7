/**
 * `check --repair` (docs/invariants.md, "Check and repair"): what a check found, dealt with so the
 * next backups heal the repository instead of building on the damage.
 *
 * 1. Chunk-index entries that rely on lost data are dropped (records first: an entry must never
 *    outlive its result), so the next backup of each chunk sends it again and processing stores
 *    its result, and any lost content of it, anew.
 * 2. Blobs whose bytes fail their hash or decryption are moved to `quarantine/{uid}/` (kept, never
 *    swept): content-addressed puts skip a name that exists, so a corrupt blob left in place
 *    could never be stored again, while a missing one is.
 * 3. Damaged snapshots get `health` (ok false, their problem count, `manifestDamaged` when part of
 *    the manifest is lost, so later backups of the device do not take them as their baseline);
 *    a `manifestDamaged` mark on a snapshot this check found whole is cleared.
 *
 * Nothing that holds data the repository still has is deleted: an entry is only a shortcut to a
 * result (dropping one costs a re-upload), and a quarantined blob is moved, not deleted.
 *
 * Safe while backups run: the repair holds the user's GC lease (`gc-lease.ts`) while it deletes,
 * so no backup step reuses an entry meanwhile (they wait), and it looks at each finding again
 * under the lease before it acts. An entry a backup reused before the lease was taken is dropped
 * only if what it names is still lost: that job could only write a snapshot without it (a recipe
 * copying from the entry fails instead, and the device's next backup sends its records whole).
 */
import type { BlobStore, CallOptions, Clock, JobStore, KeyRing, Logger } from '../../ports';
import { ContentStore } from '../content-store';
import { codeOf, hasCode } from '../errors';
import { blobKey } from '../keys';
import { Snapshot, type SnapshotHealth } from '../model';
import type { CheckProblem, RepairReport, UserCheckReport } from './check-report';
import { HeldGcLease } from './gc-lease';
import { measureBlob } from './measure-blob';

export interface RepairContext {
  /** Index entries with problems: the result they named when checked, and their problems (indexes into the report's). */
  entries: ReadonlyMap<string, { resultRef: string; problems: readonly number[] }>;
  /** Problems whose blob's bytes failed: moved to quarantine. */
  quarantinable: ReadonlySet<number>;
  /** Snapshots whose `manifestDamaged` mark is cleared. */
  healedMarks: readonly string[];
}

export interface RepairDeps {
  store: JobStore;
  blobs: BlobStore;
  keyRing?: KeyRing;
  clock: Clock;
  logger?: Logger;
}

export interface RepairOptions extends CallOptions {
  /** Lifetime of each write of the lease. */
  leaseMs: number;
  onProgress?: (progress: { uid: string; phase: 'repair'; done: number; total: number; problems: number }) => void;
}

/** Where a corrupt blob is moved: outside `users/{uid}/blobs/`, so GC never sweeps it and no reader finds it. */
export function quarantineKey(uid: string, hash: string, at: number): string {
  return `quarantine/${uid}/${at}-${hash}`;
}

const INDEX_BATCH = 500;

/**
 * Repairs what a check of `uid` found (the report's problems, renumbered as the context says).
 * Updates each problem's `repaired` and `remains`.
 *
 * @throws LifeboatError `cancelled` when aborted (after the lease is released), or a storage
 *   error as it is; what was done before stays done (every step is idempotent).
 */
export async function repairRepository(deps: RepairDeps, uid: string, report: UserCheckReport, context: RepairContext, options: RepairOptions): Promise<RepairReport> {
  const signalOpt = options.signal ? { signal: options.signal } : {};
  const content = new ContentStore(deps.blobs, deps.keyRing);
  const result: RepairReport = { droppedIndexEntries: 0, quarantinedBlobs: 0, markedSnapshots: 0, clearedMarks: 0, alreadyFixed: 0, stoppedEarly: false };
  const total = context.entries.size + context.quarantinable.size + report.damagedSnapshots.length + context.healedMarks.length;
  let done = 0;
  const step = () => options.onProgress?.({ uid, phase: 'repair', done: ++done, total, problems: report.problems.length });
  const dropped = new Set<string>();
  const quarantined = new Set<number>();

  const lease = await HeldGcLease.acquire(deps, uid, { ttlMs: options.leaseMs, ...signalOpt, ...(deps.logger ? { logger: deps.logger } : {}) });
  lease.startHeartbeat();
  /** Whether the next delete may go ahead (the lease renewed when due); records why not. */
  const leaseLeft = async (): Promise<boolean> => {
    if (await lease.keep()) return true;
    result.stoppedEarly = true;
    result.stopReason = `lease lost: ${lease.lost ?? 'it is about to end'}`;
    return false;
  };
  /** Each problem looked at again under the lease, once: is the object still lost? */
  const still = new Map<number, Promise<boolean>>();
  const stillDamaged = (id: number): Promise<boolean> => {
    let known = still.get(id);
    if (!known) {
      known = isStillDamaged(deps.blobs, content, uid, report.problems[id] as CheckProblem, context.quarantinable.has(id), signalOpt);
      still.set(id, known);
    }
    return known;
  };
  try {
    // 1. Records first: entries that rely on lost data.
    const keys = [...context.entries.keys()];
    for (let i = 0; i < keys.length && !result.stoppedEarly; i += INDEX_BATCH) {
      const batch = keys.slice(i, i + INDEX_BATCH);
      const current = await deps.store.getChunkIndex(uid, batch, signalOpt);
      const drop: string[] = [];
      for (const [j, key] of batch.entries()) {
        const cause = context.entries.get(key);
        const entry = current[j];
        const same = entry && cause && String(entry.resultRef) === cause.resultRef;
        let lost = false;
        if (same) for (const id of cause.problems) if ((lost = await stillDamaged(id))) break;
        if (lost) drop.push(key);
        else result.alreadyFixed += 1;
        step();
      }
      if (drop.length === 0 || !(await leaseLeft())) continue;
      await deps.store.deleteChunkIndex(uid, drop, signalOpt);
      for (const key of drop) dropped.add(key);
      result.droppedIndexEntries += drop.length;
    }

    // 2. Corrupt blobs out of the way, so the next backup that has their content stores it again.
    for (const id of context.quarantinable) {
      if (result.stoppedEarly) break;
      const problem = report.problems[id] as CheckProblem;
      step();
      if (!(await stillDamaged(id))) {
        result.alreadyFixed += 1;
        continue;
      }
      if (!(await leaseLeft())) break;
      if (await quarantine(deps.blobs, uid, problem.ref, deps.clock.now(), signalOpt)) {
        quarantined.add(id);
        result.quarantinedBlobs += 1;
      }
    }
  } finally {
    await lease.release();
  }

  // 3. Health marks: plain record updates, which need no lease. The time is the write's, as the
  // baseline rule counts from it (sources/baseline.ts).
  for (const damaged of report.damagedSnapshots) {
    step();
    const marked = await deps.store.runTransaction(async (tx) => {
      const current = await tx.getSnapshot(damaged.id);
      // A record that does not parse is left as it is: the check reports it.
      if (!current || !Snapshot.safeParse(current).success) return false;
      const health: SnapshotHealth = {
        checkedAt: deps.clock.now(),
        ok: false,
        checkedBlobs: damaged.checkedBlobs,
        problems: damaged.problems,
        ...(damaged.manifestDamaged ? { manifestDamaged: true } : {}),
      };
      tx.setSnapshot({ ...current, health });
      return true;
    }, signalOpt);
    if (marked) result.markedSnapshots += 1;
  }
  for (const id of context.healedMarks) {
    step();
    const cleared = await deps.store.runTransaction(async (tx) => {
      const current = await tx.getSnapshot(id);
      if (!current?.health?.manifestDamaged) return false;
      const { manifestDamaged: _cleared, ...health } = current.health;
      tx.setSnapshot({ ...current, health });
      return true;
    }, signalOpt);
    if (cleared) result.clearedMarks += 1;
  }

  for (const [id, problem] of report.problems.entries()) {
    const entries = problem.indexEntries.filter((k) => dropped.has(k)).length;
    problem.repaired = { droppedIndexEntries: entries, quarantined: quarantined.has(id) };
    // A snapshot's lost data stays lost (and marked); what only the index relied on is dealt with
    // once every entry that relied on it is gone.
    problem.remains = problem.snapshots.length > 0 || problem.indexEntries.some((k) => !dropped.has(k));
  }
  deps.logger?.info('check repair done', { uid, ...result });
  return result;
}

/** Whether a problem's object is still lost, looked at again (under the lease). */
async function isStillDamaged(blobs: BlobStore, content: ContentStore, uid: string, problem: CheckProblem, bytesFailed: boolean, signalOpt: CallOptions): Promise<boolean> {
  if (problem.kind === 'corrupt-snapshot-record' || problem.kind === 'corrupt-index-entry') return true;
  if (problem.kind.startsWith('missing-') && problem.kind !== 'missing-part') return !(await blobs.exists(blobKey(uid, problem.ref), signalOpt));
  // A blob that fails its hash stays corrupt until it is replaced (a put skips a name that
  // exists); one whose content does not parse, or disagrees with the manifest, stays so too.
  if (!bytesFailed) return true;
  try {
    await measureBlob(content, uid, problem.ref, signalOpt);
    return false;
  } catch (err) {
    if (hasCode(err, 'not-found') || codeOf(err) === 'data-loss') return true;
    throw err;
  }
}

/** Moves a blob's stored bytes to quarantine (a copy, then the delete); false when it is gone already. */
async function quarantine(blobs: BlobStore, uid: string, hash: string, at: number, signalOpt: CallOptions): Promise<boolean> {
  const key = blobKey(uid, hash);
  let stored: AsyncIterable<Uint8Array>;
  try {
    stored = await blobs.get(key, signalOpt);
  } catch (err) {
    if (hasCode(err, 'not-found')) return false;
    throw err;
  }
  await blobs.put(quarantineKey(uid, hash, at), stored, { ...signalOpt, ifAbsent: true, metadata: { from: key } });
  await blobs.delete(key, signalOpt);
  return true;
}
