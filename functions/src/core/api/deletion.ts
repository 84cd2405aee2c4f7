/**
 * `deleteSnapshot` and `deleteMyData`: a user deletes one of their snapshots, or all their data
 * (core/deletion, docs/invariants.md "Deletion"). Both are idempotent; `deleteMyData` is a
 * resumable loop bounded by the call's time, so the device calls it again until it reports the
 * data gone (the SDK's `deleteMyData` does), and a scheduled pickup finishes it if the device
 * goes away.
 */
import { DeleteMyDataInput, DeleteSnapshotInput } from '@lifeboat/protocol';
import type { EngineDeps } from '../deps';
import { deleteUserData, type DeletionReport } from '../deletion/delete-user-data';
import { assertNotBeingDeleted } from '../deletion/deletion-state';
import { DELETION_SETTLE_MS } from '../deletion/delete-user-data';
import { deleteUserSnapshot, type DeleteSnapshotResult } from '../deletion/delete-snapshot';
import { parseInput, requireUid, type CallableHandler, type CallableRequest } from './callable';

/**
 * Time one call spends deleting before it answers, well inside a callable's 60 s (Cloud
 * Functions' default; the embedded server's clients time out too). @default 40 s
 */
export const DELETE_CALL_BUDGET_MS = 40_000;

export async function deleteSnapshot(request: CallableRequest, deps: EngineDeps): Promise<DeleteSnapshotResult> {
  const uid = requireUid(request);
  const { snapshotId } = parseInput(DeleteSnapshotInput, request.data, 'deleteSnapshot');
  return deleteUserSnapshot(deps, uid, snapshotId, { stopAt: deps.clock.now() + DELETE_CALL_BUDGET_MS });
}

export async function deleteMyData(request: CallableRequest, deps: EngineDeps): Promise<{ deletion: DeletionReport }> {
  const uid = requireUid(request);
  parseInput(DeleteMyDataInput, request.data, 'deleteMyData');
  return { deletion: await deleteUserData(deps, uid, { reason: 'user-request', stopAt: deps.clock.now() + DELETE_CALL_BUDGET_MS }) };
}

/**
 * The handler, refused while the caller's data is being deleted: for calls that would add to it
 * (a job, a schedule, a device token, settings), so nothing new appears behind the deletion.
 */
export function refusedWhileDeleting<R>(handler: CallableHandler<R>, call: string): CallableHandler<R> {
  return async (request, deps) => {
    const uid = requireUid(request);
    await assertNotBeingDeleted(deps.blobs, uid, call, deps.deletionSettleMs ?? DELETION_SETTLE_MS, deps.clock.now());
    return handler(request, deps);
  };
}
