import type { CallOptions } from '../../ports';
import { CountingContentStore, type ContentStore } from '../content-store';
import type { EngineDeps } from '../deps';
import { lifeboatError } from '../errors';
import {
  BACKUP_TYPES, emptyProgress, MANIFEST_V2_FORMAT, type BackupJob, type BackupType, type JobProgress, type ManifestItem, type ManifestRoot, type NodeEntry, type SegmentEntry, type Snapshot,
  type SnapshotChanges,
} from '../model';
import { transition } from '../state-machine';
import { compareUtcIso } from '../utc-iso';
import { readyToFinalize } from './maybe-finalize';
import { registeredChunks, type RegisteredChunk } from './registered-chunks';
import { SOURCE_CHUNK_INDEX_BASE } from '../sources/server-sources';
import { applyUserRetention } from '../snapshots/retention-settings';
import { scheduleUserMaintenance } from '../maintenance';
import { cleanUpJobSoon } from './job-cleanup';
import { ManifestTreeBuilder } from '../snapshots/manifest-tree';
import { segmentStats } from '../snapshots/segment-stats';
import { openManifest, readAhead, readSegment } from '../snapshots/snapshot-manifest';
import { encodeWatermarks } from '../snapshots/watermarks';
import { parentSnapshotOf } from '../sources/baseline';
import { CARRIED_TYPES, carryType, diffType, withoutPlaced, type ParentOf } from '../sources/complete-from-parent';

/** Snapshot ids derive from the job, so a repeated finalize finds its own snapshot. */
export function snapshotIdFor(jobId: string): string {
  return `snap_${jobId}`;
}

/** Chunk results read at once when a chunk carries no stats (chunks processed before segments). */
const STATS_READ_AHEAD = 8;

/**
 * One type's part of the manifest: its segments in order into a tree (a large file's parts
 * together, in offset order, after the type's other segments) and, for chats, the watermarks.
 */
class TypeManifest {
  readonly builder: ManifestTreeBuilder;
  /** The job's own segments, kept only when an incremental carry must compare against them. */
  readonly own: SegmentEntry[] = [];
  private readonly parts: SegmentEntry[] = [];
  private readonly marks = new Map<string, string>();

  constructor(
    private readonly content: ContentStore,
    private readonly uid: string,
    readonly type: BackupType,
    private readonly keepOwn: boolean,
    private readonly options: CallOptions,
  ) {
    this.builder = new ManifestTreeBuilder(content, uid, type, options);
  }

  /**
   * A segment of the job's own. With an incremental carry they wait (`emitOwn`) until the parent's
   * segments are in: the carried history first, then what the job sent, so a conversation reads in
   * time order.
   */
  async addOwn(entry: SegmentEntry): Promise<void> {
    if (this.keepOwn) this.own.push(entry);
    else if (entry.file) this.parts.push(entry);
    else await this.emit(entry);
  }

  /** Emits the held own segments (after a carry), without the items it placed among the parent's. */
  async emitOwn(placed: ReadonlySet<string>): Promise<void> {
    for (const held of this.own) {
      const entry = await withoutPlaced(this.content, this.uid, this.type, held, placed, this.options);
      if (!entry) continue;
      if (entry.file) this.parts.push(entry);
      else await this.emit(entry);
    }
  }

  /** Adds a segment to the tree in order, folding its chat watermarks in. */
  readonly emit = async (entry: SegmentEntry): Promise<void> => {
    if (this.type === 'chats' && entry.items > entry.skipped) {
      // A segment with too many conversations keeps no marks in its stats: read them from it.
      const marks = entry.marks ?? segmentStats((await readSegment(this.content, this.uid, entry.ref, this.options)).items).marks ?? [];
      for (const [conversation, at] of marks) {
        const current = this.marks.get(conversation);
        if (current === undefined || compareUtcIso(at, current) > 0) this.marks.set(conversation, at);
      }
    }
    await this.builder.add(entry);
  };

  /** Emits the parts of large files, grouped by file in order of first appearance, each in offset order. */
  async flushParts(): Promise<void> {
    const files = new Map<string, SegmentEntry[]>();
    for (const part of this.parts) {
      const id = part.file?.id ?? '';
      files.set(id, [...(files.get(id) ?? []), part]);
    }
    for (const parts of files.values()) {
      // A stable sort: equal offsets keep their registration order.
      for (const part of parts.sort((a, b) => (a.file?.offset ?? 0) - (b.file?.offset ?? 0))) await this.emit(part);
    }
    this.parts.length = 0;
  }

  async watermarksRef(): Promise<string | undefined> {
    if (this.type !== 'chats' || this.marks.size === 0) return undefined;
    return (await this.content.put(this.uid, encodeWatermarks(this.marks), this.options)).hash;
  }
}

/** The job's chunks in registration order, each with its result's stats (read from the result when the chunk has none). */
async function* chunksWithStats(deps: EngineDeps, content: ContentStore, job: BackupJob): AsyncGenerator<{ chunk: RegisteredChunk; entry: SegmentEntry }> {
  const withStats = async (chunk: RegisteredChunk) => {
    if (chunk.state !== 'processed' || !chunk.resultRef) {
      throw lifeboatError('failed-precondition', `chunk ${chunk.id} is ${chunk.state}`, { retryable: true });
    }
    const ref = chunk.resultRef;
    const stats = chunk.stats ?? segmentStats((await readSegment(content, job.uid, ref)).items);
    return { chunk, entry: { ref, ...stats } };
  };
  yield* readAhead(registeredChunks(deps.store, job.id), withStats, STATS_READ_AHEAD);
}

/** The job's progress as it ends, from every chunk it registered, and what finalize stored. */
function finalProgress(chunks: readonly Pick<RegisteredChunk, 'index' | 'type' | 'size' | 'items' | 'processedItems' | 'skippedItems' | 'storedBytes' | 'known' | 'deduplicated'>[], storedByFinalize: number): JobProgress {
  const p = emptyProgress();
  for (const c of chunks) {
    p.totalChunks += 1;
    p.uploadedChunks += 1;
    p.processedChunks += 1;
    p.totalItems += c.items;
    p.processedItems += c.processedItems;
    p.skippedItems += c.skippedItems;
    p.bytesTotal += c.size;
    p.bytesStored += c.storedBytes;
    // Bytes a server-side source read were never the device's to send.
    if (c.known || c.deduplicated) p.bytesDeduplicated += c.size;
    else if (c.index < SOURCE_CHUNK_INDEX_BASE) p.bytesUploaded += c.size;
    const t = (p.byType[c.type] ??= { items: 0, skipped: 0, bytes: 0 });
    t.items += c.processedItems;
    t.skipped += c.skippedItems;
    t.bytes += c.size;
  }
  p.bytesStored += storedByFinalize;
  return p;
}

/**
 * Writes the snapshot of a job whose chunks are all processed, in the order of
 * docs/invariants.md: content blobs and segments (already stored by processChunk), then the
 * manifest (the type trees' nodes, watermarks, the root), then the snapshot record together with
 * `completed` in one transaction; raw uploads are deleted last. Memory and reads grow with the
 * chunks that changed, not with the items: unchanged segments are named by reference, with the
 * stats their chunk records carry. Idempotent: a completed job is left alone and every blob is
 * content-addressed.
 */
export async function finalize(deps: EngineDeps, jobId: string): Promise<void> {
  const job = await deps.store.getJob(jobId);
  if (!job || !(await readyToFinalize(deps, job))) return;
  const now = deps.clock.now();
  await deps.store.runTransaction(async (tx) => {
    const current = await tx.getJob(jobId);
    if (current && current.status === 'running' && current.phase !== 'finalizing') {
      tx.setJob({ ...current, phase: 'finalizing', updatedAt: now, heartbeatAt: now });
    }
  });

  const content = new CountingContentStore(deps.blobs, deps.keyRing);
  const types = BACKUP_TYPES.filter((t) => job.types.includes(t));
  // Each type against its own baseline: the device's newest earlier snapshot holding it.
  const parents = new Map<BackupType, ParentOf | null>();
  const opened = new Map<string, ParentOf>();
  for (const type of types) {
    const snapshot = await parentSnapshotOf(deps.store, job, type);
    if (snapshot && !opened.has(snapshot.id)) opened.set(snapshot.id, { snapshot, manifest: await openManifest(content, snapshot) });
    parents.set(type, snapshot ? (opened.get(snapshot.id) as ParentOf) : null);
  }
  const carries = (type: BackupType) => job.options.incrementalOnly === true && CARRIED_TYPES.has(type) && parents.get(type) !== null;
  const manifests = new Map(types.map((type) => [type, new TypeManifest(content, job.uid, type, carries(type), {})]));

  // The chunks' figures for the job's final progress: a few numbers each, not their items.
  const counted: Array<Parameters<typeof finalProgress>[0][number]> = [];
  for await (const { chunk, entry } of chunksWithStats(deps, content, job)) {
    const manifest = manifests.get(chunk.type);
    if (!manifest) throw lifeboatError('failed-precondition', `chunk ${chunk.id} is of type ${chunk.type}, not one of the job's`, { retryable: false });
    await manifest.addOwn(entry);
    const { index, type, size, items, processedItems, skippedItems, storedBytes, known, deduplicated } = chunk;
    counted.push({ index, type, size, items, processedItems, skippedItems, storedBytes, known, deduplicated });
  }
  const chunks = counted.length;

  const changes: Partial<Record<BackupType, SnapshotChanges>> = {};
  const rootTypes: ManifestRoot['types'] = [];
  // Format-1 parents list every item flat: a chats tree carries its messages and the media
  // fetched for them; a media tree the rest of the media (all of it when chats are not carried).
  const chatMedia = (i: ManifestItem) => i.type === 'media' && i.sourceId.startsWith('chat:');
  const legacyHolds = (type: BackupType) => (i: ManifestItem) =>
    type === 'chats' ? i.type === 'chats' || chatMedia(i) : i.type === type && !(type === 'media' && carries('chats') && chatMedia(i));
  for (const manifest of manifests.values()) {
    const { type } = manifest;
    const parent = parents.get(type) ?? null;
    // With incrementalOnly what the job did not send is carried forward from the parent (before
    // the job's own segments), so this snapshot restores the whole set on its own.
    const carried = carries(type) && parent ? await carryType(content, job.uid, type, manifest.own, parent, manifest.emit, legacyHolds(type)) : null;
    if (carried) await manifest.emitOwn(carried.placed);
    await manifest.flushParts();
    const tree: NodeEntry | null = await manifest.builder.finish();
    const treeChanges = carried?.changes ?? (await diffType(content, job.uid, type, tree, parent));
    // Changes are reported for the job's types, by the items' own types, against the parent of the tree that holds them.
    for (const [itemType, counts] of Object.entries(treeChanges) as Array<[BackupType, SnapshotChanges]>) {
      if (!job.types.includes(itemType)) continue;
      const into = (changes[itemType] ??= { parentId: null, added: 0, changed: 0, removed: 0, unchanged: 0, carried: 0 });
      for (const field of ['added', 'changed', 'removed', 'unchanged', 'carried'] as const) into[field] += counts[field];
      if (counts.estimated) into.estimated = true;
    }
    if (job.types.includes(type)) {
      const own = (changes[type] ??= { parentId: null, added: 0, changed: 0, removed: 0, unchanged: 0, carried: 0 });
      own.parentId = parent?.snapshot.id ?? null;
    }
    const watermarks = await manifest.watermarksRef();
    rootTypes.push({ type, tree, ...(watermarks ? { watermarks } : {}) });
  }
  const root: ManifestRoot = { format: MANIFEST_V2_FORMAT, types: rootTypes };
  const manifestBlob = await content.put(job.uid, new TextEncoder().encode(JSON.stringify(root)));

  const snapshotId = snapshotIdFor(jobId);
  const parent = await parentSnapshotOf(deps.store, job);
  const trees = rootTypes.flatMap((t) => (t.tree ? [t.tree] : []));
  const sum = (f: (t: NodeEntry) => number) => trees.reduce((n, t) => n + f(t), 0);
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
      items: sum((t) => t.items),
      skippedItems: sum((t) => t.skipped),
      chunks,
      originalBytes: sum((t) => t.originalBytes),
      storedBytes: sum((t) => t.storedBytes),
    },
    byType: job.progress.byType,
    health: null,
    changes,
  };

  await deps.store.runTransaction(async (tx) => {
    const current = await tx.getJob(jobId);
    const existing = await tx.getSnapshot(snapshotId);
    if (!current || current.status !== 'running') return;
    if (!existing) tx.setSnapshot(snapshot);
    tx.setJob({
      ...transition(current, 'completed', now, { snapshotId }),
      progress: finalProgress(counted, content.written),
      progressAt: now,
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

  // Raw uploads and the registration state (chunk records, batches) are only needed until the
  // snapshot exists, which names the segments itself; a large job's rest goes to a task.
  await cleanUpJobSoon(deps, job.uid, jobId, 'finalize');
  // What retention forgot and this job replaced is collected once it is past GC's grace period.
  await scheduleUserMaintenance(deps, job.uid);
}
