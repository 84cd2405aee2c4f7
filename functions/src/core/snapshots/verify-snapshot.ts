/**
 * Verify: re-read a snapshot's manifest and blobs (all of them, or a sampled share, each streamed:
 * `measure-blob.ts`), recheck every hash and size, and report missing or corrupt blobs by the items they hold. The result is
 * recorded as the snapshot's `health`.
 */
import type { BlobStore, JobStore, KeyRing } from '../../ports';
import { ContentStore } from '../content-store';
import { codeOf, hasCode, messageOf } from '../errors';
import type { ManifestItem, Snapshot } from '../model';
import { badFiles, fileKeyOf } from './file-parts';
import { measureBlob, type BlobMeasure } from './measure-blob';
import { segmentEntries } from './manifest-tree';
import { openManifest, readSegment, type OpenedManifest } from './snapshot-manifest';

/**
 * `missing-part`: a packed item points past its pack's records. `bad-segments`: the parts of a
 * large file do not make the file (a gap, an overlap, a missing or repeated part, sizes that
 * disagree: `file-parts.ts`); the manifest is at fault, so `blob` is the manifest's hash.
 */
export const PROBLEM_KINDS = ['missing-manifest', 'corrupt-manifest', 'missing-segment', 'corrupt-segment', 'missing-blob', 'corrupt-blob', 'size-mismatch', 'missing-part', 'bad-segments'] as const;
export type ProblemKind = (typeof PROBLEM_KINDS)[number];

/** Problems of the manifest itself: items below them cannot be listed (`SnapshotHealth.manifestDamaged`). */
const MANIFEST_PROBLEMS: ReadonlySet<ProblemKind> = new Set(['missing-manifest', 'corrupt-manifest', 'missing-segment', 'corrupt-segment']);

export interface VerifyProblem {
  kind: ProblemKind;
  /** The blob at fault: the manifest's (or a tree node's) for manifest problems, the segment's for segment problems. */
  blob: string;
  /** The items whose data is affected (empty for manifest and segment problems: those items cannot be listed). */
  items: Array<{ type: ManifestItem['type']; sourceId: string }>;
  message: string;
}

export interface VerifyReport {
  snapshotId: string;
  ok: boolean;
  checkedAt: number;
  /**
   * Blobs the manifest references (each counted once; a blob several segments share may count
   * again past the first 100 000), and how many of them were read.
   */
  totalBlobs: number;
  checkedBlobs: number;
  checkedItems: number;
  problems: VerifyProblem[];
}

export interface VerifyOptions {
  /** Share of blobs to read, 1..100. @default 100 */
  samplePercent?: number;
  /** Picks the sample. @default Math.random */
  random?: () => number;
  /** Called as the check of each chosen blob starts (progress bars); the total grows as the manifest is read. @default none */
  onProgress?: (progress: { checkedBlobs: number; totalBlobs: number }) => void;
  signal?: AbortSignal;
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

export async function verifySnapshot(deps: VerifyDeps, snapshot: Snapshot, options: VerifyOptions = {}): Promise<VerifyReport> {
  const content = new ContentStore(deps.blobs, deps.keyRing);
  const signalOpt = options.signal ? { signal: options.signal } : {};
  const report: VerifyReport = {
    snapshotId: snapshot.id,
    ok: true,
    checkedAt: deps.clock.now(),
    totalBlobs: 0,
    checkedBlobs: 0,
    checkedItems: 0,
    problems: [],
  };
  const share = Math.min(100, Math.max(1, options.samplePercent ?? 100)) / 100;
  const random = options.random ?? Math.random;
  const checked = new Map<string, BlobOutcome | 'skipped'>();

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

  // A large file's parts come together in the manifest: gathered across segments, checked as a whole.
  let parts: ManifestItem[] = [];
  const checkParts = () => {
    for (const [key, reason] of badFiles(parts)) {
      const mine = parts.filter((i) => fileKeyOf(i) === key);
      const first = mine[0] as ManifestItem;
      report.problems.push({ kind: 'bad-segments', blob: snapshot.manifestRef, items: [{ type: first.type, sourceId: first.sourceId }], message: `the ${mine.length} part(s) of ${first.sourceId} do not make the file: ${reason}` });
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

  /** Checks the items of one run (a segment, or a whole format-1 manifest), blob by blob. */
  const checkItems = async (items: readonly ManifestItem[]) => {
    gatherParts(items);
    const byBlob = new Map<string, ManifestItem[]>();
    for (const item of items) {
      if (!item.blob) continue;
      const list = byBlob.get(item.blob) ?? [];
      list.push(item);
      byBlob.set(item.blob, list);
    }
    for (const [blob, blobItems] of byBlob) {
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
        report.problems.push({ ...outcome.problem, blob, items: refs });
        continue;
      }
      const outside = blobItems.filter((i) => i.part !== undefined && i.part >= outcome.lines);
      if (outside.length > 0) {
        report.problems.push({
          kind: 'missing-part',
          blob,
          items: outside.map((i) => ({ type: i.type, sourceId: i.sourceId })),
          message: `pack ${blob} has ${outcome.lines} records; items point past them`,
        });
      }
    }
  };

  const manifestProblem = (err: unknown, blob: string, what: 'manifest' | 'segment', message?: string) => {
    if (!hasCode(err, 'not-found') && codeOf(err) !== 'data-loss') throw err;
    const missing = hasCode(err, 'not-found');
    const kind: ProblemKind = what === 'manifest' ? (missing ? 'missing-manifest' : 'corrupt-manifest') : missing ? 'missing-segment' : 'corrupt-segment';
    report.problems.push({ kind, blob, items: [], message: message ?? messageOf(err) });
  };

  let manifest: OpenedManifest | null = null;
  try {
    manifest = await openManifest(content, snapshot, signalOpt);
  } catch (err) {
    manifestProblem(err, snapshot.manifestRef, 'manifest');
  }
  if (manifest?.format === 1) {
    await checkItems(manifest.items);
  } else if (manifest?.format === 2) {
    for (const { type, tree } of manifest.root.types) {
      if (!tree) continue;
      try {
        for await (const { entry } of segmentEntries(content, snapshot.uid, tree, 0, signalOpt)) {
          let segment;
          try {
            segment = await readSegment(content, snapshot.uid, entry.ref, signalOpt);
          } catch (err) {
            manifestProblem(err, entry.ref, 'segment', `${messageOf(err)} (${entry.items} ${type} items lost with it)`);
            continue;
          }
          await checkItems(segment.items);
        }
      } catch (err) {
        // A node of the tree is gone or damaged: the segments below it cannot be listed.
        manifestProblem(err, tree.ref, 'manifest', `${type}: ${messageOf(err)}`);
      }
    }
  }

  checkParts();
  report.ok = report.problems.length === 0;
  // Later backups of the device do not take a snapshot whose manifest is damaged as their
  // baseline (sources/baseline.ts), counting from when the mark is written: so the time of the write.
  const manifestDamaged = report.problems.some((p) => MANIFEST_PROBLEMS.has(p.kind));
  const health = { checkedAt: deps.clock.now(), ok: report.ok, checkedBlobs: report.checkedBlobs, problems: report.problems.length, ...(manifestDamaged ? { manifestDamaged } : {}) };
  await deps.store.runTransaction(async (tx) => {
    const current = await tx.getSnapshot(snapshot.id);
    if (current) tx.setSnapshot({ ...current, health });
  });
  return report;
}
