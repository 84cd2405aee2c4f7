import type { EngineDeps } from '../deps';
import { assertOwner } from '../jobs';
import type { Snapshot } from '../model';
import { parseInput, requireUid, type CallableRequest } from './callable';
import { ListSnapshotsInput, SnapshotRef, VerifySnapshotInput } from './schemas';
import { verifySnapshot as verify, type VerifyReport } from '../snapshots/verify-snapshot';

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

/** Re-reads the caller's snapshot (or a sampled share of its blobs) and reports problems by item. */
export async function verifySnapshot(request: CallableRequest, deps: EngineDeps): Promise<{ report: VerifyReport }> {
  const uid = requireUid(request);
  const input = parseInput(VerifySnapshotInput, request.data, 'verifySnapshot');
  const snapshot = assertOwner(await deps.store.getSnapshot(input.snapshotId), uid, 'snapshot', input.snapshotId);
  const report = await verify(deps, snapshot, input.samplePercent !== undefined ? { samplePercent: input.samplePercent } : {});
  return { report };
}
