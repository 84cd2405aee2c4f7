/**
 * Deleting all of one user's data (docs/invariants.md, "Deletion"): `deleteMyData`, the Firebase
 * Auth user-deleted trigger and `lifeboat delete-user` all run {@link deleteUserData}.
 *
 * In this order, each step idempotent:
 * 1. the deletion record (`deletions/{uid}`, deletion-state.ts) is written, so calls that would
 *    add to the user's data are refused from now on;
 * 2. every job of the user that is not over is cancelled (a running backup ends `cancelled`, its
 *    steps drop their work, its device's next call is refused);
 * 3. the user's data key is destroyed (crypto-shredding): from here every blob and manifest of
 *    the user, wherever a copy lies, is unreadable;
 * 4. storage is reclaimed: upload sessions, job store documents (`JobStore.deleteUserDocuments`),
 *    device registrations, and the objects under `uploads/{uid}/`, `users/{uid}/`,
 *    `settings/{uid}/` and `leases/{uid}/`, page by page;
 * 5. once the steps that were running at the start can no longer write (`settleMs` after it: the
 *    longest step is 540 s), everything is swept once more, the key's tombstone and the record
 *    go, and the user may start afresh.
 *
 * It is a resumable loop, not one call: with `stopAt` it stops between pages and reports
 * `running`, and the next run (any of the callers above, or `continuePendingDeletions` from a
 * schedule) carries on from what is left, since every step starts over from what it finds.
 */
import type { DeletionReport } from '@lifeboat/protocol';
import type { CallOptions } from '../../ports';
import { BlobDeviceRegistry } from '../device-settings';
import type { EngineDeps } from '../deps';
import { lifeboatError, messageOf } from '../errors';
import { transition } from '../state-machine';
import type { JobStatus } from '../model';
import {
  DELETIONS_PREFIX,
  deletionKey,
  emptyDeletionCounts,
  readDeletionState,
  writeDeletionState,
  type DeletionCounts,
  type DeletionReason,
  type DeletionState,
} from './deletion-state';
import { encodeStoredJson } from '../stored-json';

/**
 * How long after a deletion starts its record stays (and new data for the user is refused):
 * longer than any step that was running when it began may still write (540 s, Cloud Tasks'
 * deadline of `processChunk` and `finalize`). @default 10 minutes
 */
export const DELETION_SETTLE_MS = 10 * 60_000;

/** Documents deleted per store call (the port's most). */
const DOCUMENT_PAGE = 500;
/** Objects listed, then deleted, per round. */
const OBJECT_PAGE = 500;

export type DeletionDeps = Pick<EngineDeps, 'store' | 'blobs' | 'uploads' | 'clock' | 'keyRing' | 'devices' | 'logger' | 'deletionSettleMs'>;

export interface DeleteUserDataOptions extends CallOptions {
  /** Recorded when this run starts the deletion. @default 'user-request' */
  reason?: DeletionReason;
  /** Stop between pages at this time (epoch ms) and report `running`; the next run carries on. @default none */
  stopAt?: number;
  /** See {@link DELETION_SETTLE_MS}. @default EngineDeps.deletionSettleMs, else DELETION_SETTLE_MS */
  settleMs?: number;
  /** Called after each page with the report so far. @default none */
  onProgress?: (report: DeletionReport) => void;
}

export type { DeletionReport };

const OPEN_STATUSES: readonly JobStatus[] = ['queued', 'running', 'paused', 'failed'];

/** The folders of the blob store that hold a user's objects, besides the key and the record. */
export function userPrefixes(uid: string): string[] {
  return [`uploads/${uid}/`, `users/${uid}/`, `settings/${uid}/`, `leases/${uid}/`];
}

/** Deletes (or continues deleting) every piece of one user's data; see the module comment. */
export async function deleteUserData(deps: DeletionDeps, uid: string, options: DeleteUserDataOptions = {}): Promise<DeletionReport> {
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(uid) || uid === '.' || uid === '..') {
    throw lifeboatError('invalid-argument', `deleteUserData: ${JSON.stringify(uid)} is not a user id`);
  }
  const settleMs = options.settleMs ?? deps.deletionSettleMs ?? DELETION_SETTLE_MS;
  const call: CallOptions = options.signal ? { signal: options.signal } : {};
  const state = await begin(deps, uid, options.reason ?? 'user-request', call);
  const report = (status: DeletionReport['status']): DeletionReport => ({
    uid,
    status,
    reason: state.reason,
    startedAt: state.startedAt,
    keyDestroyedAt: state.keyDestroyedAt,
    reclaimedAt: state.reclaimedAt,
    settlesAt: status === 'running' ? null : Math.max(state.startedAt + settleMs, state.reclaimedAt ?? 0),
    removed: { ...state.removed },
  });
  const timeLeft = () => options.stopAt === undefined || deps.clock.now() < options.stopAt;
  const progress = () => options.onProgress?.(report('running'));
  const save = async () => {
    state.updatedAt = deps.clock.now();
    await writeDeletionState(deps.blobs, uid, state, call);
  };

  try {
    if (!(await cancelJobs(deps, uid, state.removed, timeLeft, progress, call))) return await stopped();
    if (state.keyDestroyedAt === null) {
      // Before anything is reclaimed: from here on no byte of the user's data can be read.
      await deps.keyRing?.destroyDataKey(uid, call);
      state.keyDestroyedAt = deps.clock.now();
      await save();
      deps.logger?.info('user data key destroyed', { uid, reason: state.reason });
    }
    if (!(await reclaim(deps, uid, userPrefixes(uid), state.removed, timeLeft, progress, call))) return await stopped();
    if (state.reclaimedAt === null) {
      state.reclaimedAt = deps.clock.now();
      await save();
    }
    const settled = report('reclaimed');
    if (deps.clock.now() < (settled.settlesAt as number)) return settled;
    // Whatever a step that was running at the start wrote after its folder was swept goes now,
    // with the key's tombstone; the record goes last.
    if (!(await reclaim(deps, uid, [...userPrefixes(uid), `keys/${uid}/`], state.removed, timeLeft, progress, call))) return await stopped();
    await deps.blobs.delete(deletionKey(uid), call);
    deps.logger?.info('user data deleted', { uid, reason: state.reason, ...state.removed });
    return report('done');
  } catch (err) {
    // What was removed so far is recorded for the next run's report; the error is the caller's.
    await save().catch(() => undefined);
    throw err;
  }

  async function stopped(): Promise<DeletionReport> {
    await save();
    return report('running');
  }
}

/** The user's deletion record, created if absent (two runs starting at once agree on one). */
async function begin(deps: DeletionDeps, uid: string, reason: DeletionReason, call: CallOptions): Promise<DeletionState> {
  const existing = await readDeletionState(deps.blobs, uid, call);
  if (existing) return existing;
  const now = deps.clock.now();
  const fresh: DeletionState = { version: 1, reason, startedAt: now, updatedAt: now, keyDestroyedAt: null, reclaimedAt: null, removed: emptyDeletionCounts() };
  const { created } = await deps.blobs.put(deletionKey(uid), encodeStoredJson(fresh), { ...call, ifAbsent: true });
  if (created) {
    deps.logger?.info('user data deletion started', { uid, reason });
    return fresh;
  }
  return (await readDeletionState(deps.blobs, uid, call)) ?? fresh;
}

/** Cancels every job of the user that is not over; false when time ran out first. */
async function cancelJobs(deps: DeletionDeps, uid: string, removed: DeletionCounts, timeLeft: () => boolean, progress: () => void, call: CallOptions): Promise<boolean> {
  for (const status of OPEN_STATUSES) {
    for (;;) {
      if (!timeLeft()) return false;
      // Always the first page: the jobs it held are cancelled now, so the next one is what is left.
      const page = await deps.store.listJobs({ uid, status, limit: 100 }, call);
      for (const job of page.items) {
        const now = deps.clock.now();
        const cancelled = await deps.store.runTransaction(async (tx) => {
          const current = await tx.getJob(job.id);
          if (!current || current.uid !== uid || current.status === 'completed' || current.status === 'cancelled') return false;
          tx.setJob(transition(current, 'cancelled', now, {
            lastError: { code: 'cancelled', message: 'the user\'s data is being deleted', step: 'deleteUserData', at: now, retrying: false },
          }));
          return true;
        }, call);
        if (cancelled) removed.jobsCancelled += 1;
      }
      progress();
      if (page.items.length === 0) break;
    }
  }
  return true;
}

/**
 * Deletes the user's upload sessions, documents, device registrations and the objects under
 * `prefixes`; false when time ran out first (what is gone stays gone).
 */
async function reclaim(deps: DeletionDeps, uid: string, prefixes: readonly string[], removed: DeletionCounts, timeLeft: () => boolean, progress: () => void, call: CallOptions): Promise<boolean> {
  removed.uploadSessions += await deps.uploads.discardUser(uid, call);
  for (let more = true; more; ) {
    if (!timeLeft()) return false;
    const page = await deps.store.deleteUserDocuments(uid, DOCUMENT_PAGE, call);
    removed.documents += page.deleted;
    more = page.more;
    progress();
  }
  removed.devices += await (deps.devices ?? new BlobDeviceRegistry(deps.blobs)).forgetUser(uid, call);
  for (const prefix of prefixes) {
    // A page of keys is listed, then deleted: no store is asked to list a folder while it changes.
    for (;;) {
      if (!timeLeft()) return false;
      const keys: string[] = [];
      for await (const info of deps.blobs.list(prefix, call)) {
        keys.push(info.key);
        if (keys.length >= OBJECT_PAGE) break;
      }
      if (keys.length === 0) break;
      for (const key of keys) {
        if (!timeLeft()) return false;
        await deps.blobs.delete(key, call);
        removed.objects += 1;
      }
      progress();
    }
  }
  return true;
}

/**
 * Carries on every deletion under way (the record of each is in `deletions/`): the scheduled
 * pickup, so a deletion whose caller went away (an app uninstalled after "delete my account")
 * still reclaims everything and ends. Runs them one after another until `stopAt`; a failure of
 * one is logged and the others go on.
 */
export async function continuePendingDeletions(deps: DeletionDeps, options: Omit<DeleteUserDataOptions, 'reason' | 'onProgress'> = {}): Promise<DeletionReport[]> {
  const uids: string[] = [];
  for await (const info of deps.blobs.list(DELETIONS_PREFIX, options.signal ? { signal: options.signal } : {})) uids.push(info.key.slice(DELETIONS_PREFIX.length));
  const reports: DeletionReport[] = [];
  for (const uid of uids) {
    if (options.stopAt !== undefined && deps.clock.now() >= options.stopAt) break;
    try {
      reports.push(await deleteUserData(deps, uid, options));
    } catch (err) {
      deps.logger?.warn('a pending user data deletion failed; the next pickup retries it', { uid, error: messageOf(err) });
    }
  }
  return reports;
}
