/**
 * Deleting one snapshot on its owner's request (`deleteSnapshot`, `lifeboat delete-snapshot`):
 * its record goes at once, in a transaction that checks the owner (from then on it is neither
 * listed nor restorable), then garbage collection reclaims what no other snapshot needs
 * (docs/invariants.md, "Deletion" and "Garbage collection"). Blobs another snapshot shares stay;
 * blobs younger than GC's grace period, or all of them while a backup of the user runs (GC
 * defers), go at a later run.
 */
import type { DeleteSnapshotResult } from '@lifeboat/protocol';
import type { CallOptions } from '../../ports';
import type { EngineDeps } from '../deps';
import { messageOf } from '../errors';
import { assertOwner } from '../jobs';
import { collectGarbage } from '../snapshots/gc';

export interface DeleteSnapshotOptions extends CallOptions {
  /** Stop GC's deletes at this time (epoch ms), e.g. before a callable's timeout. @default none */
  stopAt?: number;
  /** GC's grace period. @default DEFAULT_GC_GRACE_MS (1 hour) */
  graceMs?: number;
  /** Reclaim nothing now (the next GC run does). @default false */
  skipGc?: boolean;
}

export type { DeleteSnapshotResult };

/**
 * Deletes `uid`'s snapshot `snapshotId`, then collects the user's garbage. A snapshot that is
 * not there (deleted before, by this call repeated or by retention) is `deleted: false`, not an
 * error, so deleting twice is harmless.
 * @throws LifeboatError `permission-denied` for another user's snapshot (nothing is deleted).
 */
export async function deleteUserSnapshot(deps: Pick<EngineDeps, 'store' | 'blobs' | 'keyRing' | 'clock' | 'logger'>, uid: string, snapshotId: string, options: DeleteSnapshotOptions = {}): Promise<DeleteSnapshotResult> {
  const call: CallOptions = options.signal ? { signal: options.signal } : {};
  const deleted = await deps.store.runTransaction(async (tx) => {
    const snapshot = await tx.getSnapshot(snapshotId);
    if (!snapshot) return false;
    assertOwner(snapshot, uid, 'snapshot', snapshotId);
    tx.deleteSnapshot(snapshotId);
    return true;
  }, call);
  if (deleted) deps.logger.info('snapshot deleted', { uid, snapshotId });
  if (options.skipGc) return { snapshotId, deleted, gc: { status: 'skipped', reason: 'asked to skip' } };
  try {
    const report = await collectGarbage({ store: deps.store, blobs: deps.blobs, clock: deps.clock, logger: deps.logger, ...(deps.keyRing ? { keyRing: deps.keyRing } : {}) }, uid, {
      ...call,
      ...(options.stopAt !== undefined ? { stopAt: options.stopAt } : {}),
      ...(options.graceMs !== undefined ? { graceMs: options.graceMs } : {}),
    });
    return { snapshotId, deleted, gc: { status: report.status, deletedBlobs: report.deletedBlobs, deletedBytes: report.deletedBytes, youngBlobs: report.youngBlobs, stoppedEarly: report.stoppedEarly } };
  } catch (err) {
    // The snapshot is gone either way; the daily or next post-backup GC run reclaims its data.
    deps.logger.warn('garbage collection after a snapshot deletion failed; a later run reclaims it', { uid, snapshotId, error: messageOf(err) });
    return { snapshotId, deleted, gc: { status: 'failed', reason: messageOf(err) } };
  }
}
