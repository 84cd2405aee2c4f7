import type { EngineDeps } from '../deps';
import { assertOwner } from '../jobs';
import type { Snapshot } from '../model';
import { parseInput, requireUid, type CallableRequest } from './callable';
import { ListSnapshotsInput, SnapshotRef, VerifySnapshotInput } from '@lifeboat/protocol';
import { startVerify, type StartedVerify } from '../snapshots/verify-rounds';

export async function getSnapshot(request: CallableRequest, deps: EngineDeps): Promise<{ snapshot: Snapshot }> {
  const uid = requireUid(request);
  const { snapshotId } = parseInput(SnapshotRef, request.data, 'getSnapshot');
  return { snapshot: assertOwner(await deps.store.getSnapshot(snapshotId), uid, 'snapshot', snapshotId) };
}

export async function listSnapshots(
  request: CallableRequest,
  deps: EngineDeps,
): Promise<{ snapshots: Snapshot[]; nextPageToken?: string }> {
  const uid = requireUid(request);
  const input = parseInput(ListSnapshotsInput, request.data, 'listSnapshots');
  const page = await deps.store.listSnapshots({
    uid,
    limit: input.limit ?? 20,
    ...(input.pageToken ? { cursor: input.pageToken } : {}),
  });
  return { snapshots: page.items, ...(page.nextCursor ? { nextPageToken: page.nextCursor } : {}) };
}

/**
 * Re-reads the caller's snapshot (or a sampled share of its blobs) and reports problems by item:
 * `{ report }` when that takes at most about 20 s, else `{ report: null, verification }` at once,
 * with tasks going on in rounds and the record on the snapshot showing their progress
 * (`verify-rounds.ts`). While a verify runs, a call returns its record instead of starting another.
 */
export async function verifySnapshot(request: CallableRequest, deps: EngineDeps): Promise<StartedVerify> {
  const uid = requireUid(request);
  const input = parseInput(VerifySnapshotInput, request.data, 'verifySnapshot');
  const snapshot = assertOwner(await deps.store.getSnapshot(input.snapshotId), uid, 'snapshot', input.snapshotId);
  return startVerify(deps, snapshot, input.samplePercent ?? 100);
}
