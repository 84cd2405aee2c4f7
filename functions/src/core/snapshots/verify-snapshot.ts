/**
 * Verify: re-read a snapshot's manifest and blobs (all of them, or a sampled share, each streamed:
 * `measure-blob.ts`), recheck every hash and size, and report missing or corrupt blobs by the items they hold. The result is
 * recorded as the snapshot's `health`.
 *
 * A verify can also run in pages (`verifyPage`): given `stopAt` it stops between two blobs once
 * the clock passes it and returns a cursor; given that cursor and the report so far it goes on.
 * The `verifySnapshot` callable runs a whole snapshot that way in rounds (`verify-rounds.ts`).
 */
import type { VerifyProblem, VerifyReport } from '@lifeboat/protocol';
import type { BlobStore, JobStore, KeyRing } from '../../ports';
import { ContentStore } from '../content-store';
import { codeOf, hasCode, messageOf } from '../errors';
import { VERIFY_RECORD_LIMITS, type ManifestItem, type PendingPart, type ProblemKind, type Snapshot, type VerifyCursor } from '../model';
import { badFiles, fileKeyOf, partLength } from './file-parts';
import { measureBlob, type BlobMeasure } from './measure-blob';
import { segmentEntries } from './manifest-tree';
import { openManifest, readSegment, type OpenedManifest } from './snapshot-manifest';

export { PROBLEM_KINDS, type ProblemKind } from '../model';

export type { VerifyProblem, VerifyReport } from '@lifeboat/protocol';

export interface VerifyOptions {
  /** Share of blobs to read, 1..100. @default 100 */
  samplePercent?: number;
  /** Picks the sample. @default Math.random */
  random?: () => number;
  /** Called as the check of each chosen blob starts (progress bars); the total grows as the manifest is read. @default none */
  onProgress?: (progress: { checkedBlobs: number; totalBlobs: number }) => void;
  signal?: AbortSignal;
}

export interface VerifyPageOptions extends VerifyOptions {
  /**
   * Epoch ms after which the run stops between two blobs and returns its cursor (it always checks
   * at least one blob or segment first, so every page moves on). @default none: to the end
   */
  stopAt?: number;
  /** Goes on from an earlier page: its cursor and its report. @default from the start */
  resume?: { cursor: VerifyCursor; report: VerifyReport };
  /** Problems kept in the report; later ones are only counted (`problemCount`). @default all */
  maxProblems?: number;
}

/** One page of a verify. */
export interface VerifyRun {
  report: VerifyReport;
  /** True when the snapshot is checked to its end; false when `stopAt` came first. */
  done: boolean;
  /** Where the next page starts (null when done). */
  cursor: VerifyCursor | null;
  /** Manifest segments checked so far and in all (a format-1 manifest is one), for progress. */
  segments: { checked: number; total: number };
}

export interface VerifyDeps {
  store: JobStore;
  blobs: BlobStore;
  keyRing?: KeyRing;
  clock: { now(): number };
}

/** Blobs whose outcome verify remembers, so a blob several segments share is read once. */
const CHECKED_CACHE = 100_000;

interface BlobOutcome {
  problem: { kind: ProblemKind; message: string } | null;
  /** Records of a pack, for items that point into it. */
  lines: number;
}

/** Stands for a part's blob in parts carried by a cursor: the parts check only asks whether there is one. */
const STORED_PART = 'stored';

function pendingPart(item: ManifestItem): PendingPart {
  const segment = item.segment as NonNullable<ManifestItem['segment']>;
  return {
    index: segment.index,
    offset: segment.offset,
    fileSize: segment.fileSize,
    length: partLength(item),
    stored: item.blob !== null,
    ...(item.skipReason !== undefined ? { skipReason: item.skipReason } : {}),
  };
}

function partItem(file: NonNullable<VerifyCursor['file']>, part: PendingPart): ManifestItem {
  return {
    type: file.type,
    sourceId: file.sourceId,
    blob: part.stored ? STORED_PART : null,
    blobSize: part.length,
    originalSize: part.length,
    storedSize: part.length,
    segment: { index: part.index, offset: part.offset, fileSize: part.fileSize },
    transforms: [],
    ...(part.skipReason !== undefined ? { skipReason: part.skipReason } : {}),
  };
}

/** Checks a whole snapshot and records the result as its `health`. */
export async function verifySnapshot(deps: VerifyDeps, snapshot: Snapshot, options: VerifyOptions = {}): Promise<VerifyReport> {
  const { report } = await verifyPage(deps, snapshot, options);
  await recordHealth(deps.store, deps.clock, snapshot.id, report);
  return report;
}

/**
 * The `health` a finished verify leaves on its snapshot, written at `writtenAt`: later backups of
 * the device do not take a snapshot whose manifest is damaged as their baseline
 * (`sources/baseline.ts`), counting from when the mark is written, so `checkedAt` is the time of
 * the write, not of the verify's start.
 */
export function healthOf(report: VerifyReport, writtenAt: number): NonNullable<Snapshot['health']> {
  return {
    checkedAt: writtenAt,
    ok: report.ok,
    checkedBlobs: report.checkedBlobs,
    problems: report.problemCount,
    ...(report.manifestDamaged ? { manifestDamaged: true } : {}),
  };
}

/** Writes a finished verify's `health` on its snapshot (nothing when the snapshot is gone). */
export async function recordHealth(store: JobStore, clock: { now(): number }, snapshotId: string, report: VerifyReport): Promise<void> {
  await store.runTransaction(async (tx) => {
    const current = await tx.getSnapshot(snapshotId);
    if (current) tx.setSnapshot({ ...current, health: healthOf(report, clock.now()) });
  });
}

/**
 * Checks a snapshot from the start or from a cursor, until its end or `stopAt`; changes nothing.
 * A format-1 manifest (one blob, written before segments, small) is checked in one go.
 */
export async function verifyPage(deps: Pick<VerifyDeps, 'blobs' | 'keyRing' | 'clock'>, snapshot: Snapshot, options: VerifyPageOptions = {}): Promise<VerifyRun> {
  const content = new ContentStore(deps.blobs, deps.keyRing);
  const signalOpt = options.signal ? { signal: options.signal } : {};
  const resumed = options.resume;
  const report: VerifyReport = resumed
    ? { ...resumed.report, problems: [...resumed.report.problems] }
    : { snapshotId: snapshot.id, ok: true, checkedAt: deps.clock.now(), totalBlobs: 0, checkedBlobs: 0, checkedItems: 0, problems: [], problemCount: 0 };
  const maxProblems = options.maxProblems ?? Number.POSITIVE_INFINITY;
  const addProblem = (problem: VerifyProblem) => {
    report.problemCount += 1;
    if (report.problems.length < maxProblems) report.problems.push(problem);
  };
  const share = Math.min(100, Math.max(1, options.samplePercent ?? 100)) / 100;
  const random = options.random ?? Math.random;
  const checked = new Map<string, BlobOutcome | 'skipped'>();
  // Nothing stops a page before it has done something, so a round that starts late still moves on.
  let progressed = false;

  const checkBlob = async (blob: string, expectedSize: number | undefined): Promise<BlobOutcome> => {
    let plaintext: BlobMeasure;
    try {
      plaintext = await measureBlob(content, snapshot.uid, blob, signalOpt);
    } catch (err) {
      // Anything but a missing or mismatching blob (storage down, say) is not a finding: rethrow.
      if (!hasCode(err, 'not-found') && codeOf(err) !== 'data-loss') throw err;
      return { problem: { kind: hasCode(err, 'not-found') ? 'missing-blob' : 'corrupt-blob', message: messageOf(err) }, lines: 0 };
    }
    if (expectedSize !== undefined && expectedSize !== plaintext.byteLength) {
      return { problem: { kind: 'size-mismatch', message: `blob ${blob} has ${plaintext.byteLength} bytes, the manifest says ${expectedSize}` }, lines: 0 };
    }
    return { problem: null, lines: plaintext.records };
  };

  // A large file's parts come together in the manifest: gathered across segments (and rounds, in
  // the cursor), checked as a whole.
  const carried = resumed?.cursor.file;
  let parts: ManifestItem[] = carried ? carried.parts.map((p) => partItem(carried, p)) : [];
  const checkParts = () => {
    for (const [key, reason] of badFiles(parts)) {
      const mine = parts.filter((i) => fileKeyOf(i) === key);
      const first = mine[0] as ManifestItem;
      addProblem({ kind: 'bad-segments', blob: snapshot.manifestRef, items: [{ type: first.type, sourceId: first.sourceId }], message: `the ${mine.length} part(s) of ${first.sourceId} do not make the file: ${reason}` });
    }
    parts = [];
  };
  const gatherParts = (items: readonly ManifestItem[]) => {
    for (const item of items) {
      if (!item.segment) continue;
      if (parts.length > 0 && fileKeyOf(parts[0] as ManifestItem) !== fileKeyOf(item)) checkParts();
      parts.push(item);
    }
  };
  const mayStop = () =>
    progressed && options.stopAt !== undefined && deps.clock.now() >= options.stopAt && parts.length <= VERIFY_RECORD_LIMITS.pendingParts;

  /**
   * Checks the items of one run (a segment, or a whole format-1 manifest), blob by blob, from its
   * `from`-th blob; returns the blob it stopped before, or null when it checked them all.
   */
  const checkItems = async (items: readonly ManifestItem[], from: number, stoppable: boolean): Promise<number | null> => {
    // Parts are gathered when a run is started, so a run resumed part way has them in the cursor.
    if (from === 0) gatherParts(items);
    const byBlob = new Map<string, ManifestItem[]>();
    for (const item of items) {
      if (!item.blob) continue;
      const list = byBlob.get(item.blob) ?? [];
      list.push(item);
      byBlob.set(item.blob, list);
    }
    let index = -1;
    for (const [blob, blobItems] of byBlob) {
      index += 1;
      if (index < from) continue;
      // Never before the run's first blob: the run's parts are gathered, a cursor there would gather them again.
      if (stoppable && index > from && mayStop()) return index;
      progressed = true;
      let outcome = checked.get(blob);
      if (outcome === undefined) {
        report.totalBlobs += 1;
        // A sample always reads at least one blob, so a sampled check is never vacuous.
        if (share >= 1 || random() < share || report.checkedBlobs === 0) {
          report.checkedBlobs += 1;
          options.onProgress?.({ checkedBlobs: report.checkedBlobs, totalBlobs: report.totalBlobs });
          outcome = await checkBlob(blob, blobItems.find((i) => i.blobSize !== undefined)?.blobSize);
        } else {
          outcome = 'skipped';
        }
        checked.set(blob, outcome);
        if (checked.size > CHECKED_CACHE) checked.delete(checked.keys().next().value as string);
      }
      if (outcome === 'skipped') continue;
      report.checkedItems += blobItems.length;
      const refs = blobItems.map((i) => ({ type: i.type, sourceId: i.sourceId }));
      if (outcome.problem) {
        addProblem({ ...outcome.problem, blob, items: refs });
        continue;
      }
      const outside = blobItems.filter((i) => i.part !== undefined && i.part >= outcome.lines);
      if (outside.length > 0) {
        addProblem({
          kind: 'missing-part',
          blob,
          items: outside.map((i) => ({ type: i.type, sourceId: i.sourceId })),
          message: `pack ${blob} has ${outcome.lines} records; items point past them`,
        });
      }
    }
    return null;
  };

  const manifestProblem = (err: unknown, blob: string, what: 'manifest' | 'segment', message?: string) => {
    if (!hasCode(err, 'not-found') && codeOf(err) !== 'data-loss') throw err;
    const missing = hasCode(err, 'not-found');
    const kind: ProblemKind = what === 'manifest' ? (missing ? 'missing-manifest' : 'corrupt-manifest') : missing ? 'missing-segment' : 'corrupt-segment';
    report.manifestDamaged = true;
    addProblem({ kind, blob, items: [], message: message ?? messageOf(err) });
  };

  const finish = (total: number): VerifyRun => {
    checkParts();
    report.ok = report.problemCount === 0;
    return { report, done: true, cursor: null, segments: { checked: total, total } };
  };

  let manifest: OpenedManifest | null = null;
  try {
    manifest = await openManifest(content, snapshot, signalOpt);
  } catch (err) {
    manifestProblem(err, snapshot.manifestRef, 'manifest');
  }
  if (manifest === null) return finish(1);
  if (manifest.format === 1) {
    await checkItems(manifest.items, 0, false);
    return finish(1);
  }

  const types = manifest.root.types;
  const segmentsBefore = (typeIndex: number) => types.slice(0, typeIndex).reduce((n, t) => n + (t.tree?.segments ?? 0), 0);
  const totalSegments = segmentsBefore(types.length);
  const start = resumed?.cursor ?? { type: 0, segment: 0, blob: 0 };
  const stopped = (type: number, segment: number, blob: number): VerifyRun => {
    report.ok = report.problemCount === 0;
    const first = parts[0];
    const file = first ? { type: first.type, sourceId: first.sourceId, parts: parts.map(pendingPart) } : null;
    return { report, done: false, cursor: { type, segment, blob, file }, segments: { checked: segmentsBefore(type) + segment, total: totalSegments } };
  };
  for (let t = start.type; t < types.length; t++) {
    const { type, tree } = types[t] as (typeof types)[number];
    if (!tree) continue;
    let firstBlob = t === start.type ? start.blob : 0;
    try {
      for await (const { entry, ordinal } of segmentEntries(content, snapshot.uid, tree, t === start.type ? start.segment : 0, signalOpt)) {
        if (firstBlob === 0 && mayStop()) return stopped(t, ordinal, 0);
        let segment;
        try {
          segment = await readSegment(content, snapshot.uid, entry.ref, signalOpt);
        } catch (err) {
          manifestProblem(err, entry.ref, 'segment', `${messageOf(err)} (${entry.items} ${type} items lost with it)`);
          progressed = true;
          firstBlob = 0;
          continue;
        }
        const stoppedAt = await checkItems(segment.items, firstBlob, true);
        progressed = true;
        firstBlob = 0;
        if (stoppedAt !== null) return stopped(t, ordinal, stoppedAt);
      }
    } catch (err) {
      // A node of the tree is gone or damaged: the segments below it cannot be listed.
      manifestProblem(err, tree.ref, 'manifest', `${type}: ${messageOf(err)}`);
    }
  }
  return finish(totalSegments);
}
