import { contentStoreOf, type EngineDeps } from '../deps';
import { lifeboatError } from '../errors';
import { encodeManifest } from '../manifest';
import { ChunkResult, MANIFEST_FORMAT, type ManifestItem, type Snapshot } from '../model';
import { transition } from '../state-machine';
import { uploadPrefix } from '../keys';
import { readyToFinalize } from './maybe-finalize';
import { applyUserRetention } from '../snapshots/retention-settings';
import { completeFromParent } from '../sources/complete-from-parent';
import { parentSnapshotOf } from '../sources/baseline';

/** Snapshot ids derive from the job, so a repeated finalize finds its own snapshot. */
export function snapshotIdFor(jobId: string): string {
  return `snap_${jobId}`;
}

/**
 * Writes the snapshot of a job whose chunks are all processed, in the order of
 * docs/invariants.md: content blobs (already stored by processChunk), then the manifest blob,
 * then the snapshot record together with `completed` in one transaction; raw uploads are deleted
 * last. Idempotent: a completed job is left alone and the manifest is content-addressed.
 */
export async function finalize(deps: EngineDeps, jobId: string): Promise<void> {
  const job = await deps.store.getJob(jobId);
  if (!job || !readyToFinalize(job)) return;
  const now = deps.clock.now();
  await deps.store.runTransaction(async (tx) => {
    const current = await tx.getJob(jobId);
    if (current && current.status === 'running' && current.phase !== 'finalizing') {
      tx.setJob({ ...current, phase: 'finalizing', updatedAt: now, heartbeatAt: now });
    }
  });

  const content = contentStoreOf(deps);
  const items: ManifestItem[] = [];
  let chunks = 0;
  let cursor: string | undefined;
  do {
    const page = await deps.store.listChunks(jobId, { limit: 500, ...(cursor ? { cursor } : {}) });
    for (const chunk of page.items) {
      if (chunk.state !== 'processed' || !chunk.resultRef) {
        throw lifeboatError('failed-precondition', `chunk ${chunk.id} is ${chunk.state}`, { retryable: true });
      }
      const result = ChunkResult.parse(JSON.parse(new TextDecoder().decode(await content.get(job.uid, chunk.resultRef))));
      items.push(...result.items);
      chunks += 1;
    }
    cursor = page.nextCursor;
  } while (cursor);

  const snapshotId = snapshotIdFor(jobId);
  const parent = await parentSnapshotOf(deps.store, job);
  // Diffs against the parent, and with incrementalOnly the parent's unchanged items carried
  // forward, so this snapshot restores the whole set on its own.
  const completed = await completeFromParent(deps.store, content, job, items);
  const all = completed.items;
  const manifest = encodeManifest(
    { format: MANIFEST_FORMAT, snapshotId, jobId, uid: job.uid, deviceId: job.deviceId, createdAt: now, types: job.types, items: all.length },
    all,
  );
  const manifestBlob = await content.put(job.uid, manifest);

  const snapshot: Snapshot = {
    id: snapshotId,
    uid: job.uid,
    jobId,
    deviceId: job.deviceId,
    parentId: parent?.id ?? null,
    types: job.types,
    createdAt: now,
    manifestRef: manifestBlob.hash,
    totals: {
      items: all.length,
      skippedItems: all.filter((i) => i.skipReason !== undefined).length,
      chunks,
      originalBytes: all.reduce((n, i) => n + i.originalSize, 0),
      storedBytes: all.reduce((n, i) => n + i.storedSize, 0),
    },
    byType: job.progress.byType,
    health: null,
    changes: completed.changes,
  };

  await deps.store.runTransaction(async (tx) => {
    const current = await tx.getJob(jobId);
    const existing = await tx.getSnapshot(snapshotId);
    if (!current || current.status !== 'running') return;
    if (!existing) tx.setSnapshot(snapshot);
    tx.setJob({
      ...transition(current, 'completed', now, { snapshotId }),
      progress: {
        ...current.progress,
        bytesStored: current.progress.bytesStored + (manifestBlob.created ? manifestBlob.storedSize : 0),
      },
      heartbeatAt: now,
    });
  });

  // Retention runs after the snapshot exists, so it can never forget the one just made (keepLast
  // >= 1). A failure here must not fail the backup: the next backup applies it again.
  try {
    await applyUserRetention(deps, job.uid);
  } catch (err) {
    deps.logger.warn(`retention failed [uid=${job.uid}, job=${jobId}]: ${(err as Error).message}`);
  }

  // Raw uploads are only needed until the snapshot exists; losing this cleanup costs space, not data.
  try {
    for await (const blob of deps.blobs.list(uploadPrefix(job.uid, jobId))) await deps.blobs.delete(blob.key);
  } catch (err) {
    deps.logger.warn(`upload cleanup failed [job=${jobId}]: ${(err as Error).message}`);
  }
}
