/**
 * The record of a user's data deletion under way (docs/invariants.md, "Deletion"): a small JSON
 * object at `deletions/{uid}` in the blob store, written first and removed last. While it is
 * there the user's data is being deleted: calls that would add to it are refused
 * ({@link assertNotBeingDeleted}), no data key is created for them (the key ring's tombstone),
 * and any run of `deleteUserData` (a repeated call, the Auth trigger, a scheduled pickup,
 * `lifeboat delete-user`) carries on from what is left.
 */
import { DELETION_REASONS, DeletionCounts, type DeletionReason } from '@lifeboat/protocol';
import { z } from 'zod';
import type { BlobStore, CallOptions } from '../../ports';
import { lifeboatError } from '../errors';
import { encodeStoredJson, readStoredJson } from '../stored-json';

/** Where deletions under way are recorded, one object per user. */
export const DELETIONS_PREFIX = 'deletions/';

/** The object recording `uid`'s deletion. */
export function deletionKey(uid: string): string {
  return `${DELETIONS_PREFIX}${uid}`;
}

/** Why a deletion runs and what it removed are the protocol's (`deleteMyData` answers with them). */
export { DELETION_REASONS, DeletionCounts, type DeletionReason };

export const DeletionState = z.object({
  version: z.literal(1),
  reason: z.enum(DELETION_REASONS),
  startedAt: z.number().int(),
  updatedAt: z.number().int(),
  /** When the data key was destroyed: from then on nothing of the user can be read. */
  keyDestroyedAt: z.number().int().nullable(),
  /** When a run first found everything of the user gone (the record itself and the key's tombstone aside). */
  reclaimedAt: z.number().int().nullable(),
  removed: DeletionCounts,
});
export type DeletionState = z.infer<typeof DeletionState>;

export function emptyDeletionCounts(): DeletionCounts {
  return { jobsCancelled: 0, documents: 0, objects: 0, devices: 0, uploadSessions: 0 };
}

/** The user's deletion record, or null when no deletion is under way. */
export function readDeletionState(blobs: BlobStore, uid: string, options: CallOptions = {}): Promise<DeletionState | null> {
  return readStoredJson(blobs, deletionKey(uid), DeletionState, `the deletion record of ${uid} is corrupt`, options);
}

export async function writeDeletionState(blobs: BlobStore, uid: string, state: DeletionState, options: CallOptions = {}): Promise<void> {
  await blobs.put(deletionKey(uid), encodeStoredJson(state), options);
}

/**
 * Refuses a call that would add to the data of a user being deleted (a new job, a schedule, a
 * device token, settings), so nothing new appears behind the deletion.
 *
 * @throws LifeboatError `failed-precondition` naming `call`, with `details.retryAfterMs` once the
 *   deletion knows when it ends (its data is gone and it waits out steps still running).
 */
export async function assertNotBeingDeleted(blobs: BlobStore, uid: string, call: string, settleMs: number, now: number): Promise<void> {
  if (!(await blobs.exists(deletionKey(uid)))) return;
  const state = await readDeletionState(blobs, uid).catch(() => null);
  const endsAt = state?.reclaimedAt != null ? state.reclaimedAt + settleMs : null;
  throw lifeboatError('failed-precondition', `${call}: this user's data is being deleted; nothing can be added until the deletion is over${endsAt !== null ? ` (about ${new Date(endsAt).toISOString()})` : ''}`, {
    details: { reason: 'deletion-in-progress', ...(endsAt !== null ? { retryAfterMs: Math.max(0, endsAt - now) } : {}) },
  });
}
