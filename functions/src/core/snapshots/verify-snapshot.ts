/**
 * Verify: re-read a snapshot's manifest and blobs (all of them, or a sampled share), recheck every
 * hash and size, and report missing or corrupt blobs by the items they hold. The result is
 * recorded as the snapshot's `health`.
 */
import type { BlobStore, JobStore, KeyRing } from '../../ports';
import { ContentStore } from '../content-store';
import { codeOf, hasCode, messageOf } from '../errors';
import type { ManifestItem, Snapshot } from '../model';
import { loadManifest } from './load-manifest';
import { measureBlob, type BlobMeasure } from './measure-blob';

export const PROBLEM_KINDS = ['missing-manifest', 'corrupt-manifest', 'missing-blob', 'corrupt-blob', 'size-mismatch', 'missing-part'] as const;
export type ProblemKind = (typeof PROBLEM_KINDS)[number];

export interface VerifyProblem {
  kind: ProblemKind;
  /** The blob at fault; the manifest's own hash for manifest problems. */
  blob: string;
  /** The items whose data is affected (empty for manifest problems: then every item is). */
  items: Array<{ type: ManifestItem['type']; sourceId: string }>;
  message: string;
}

export interface VerifyReport {
  snapshotId: string;
  ok: boolean;
  checkedAt: number;
  /** Distinct blobs the manifest references, and how many of them were read. */
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
  signal?: AbortSignal;
}

export interface VerifyDeps {
  store: JobStore;
  blobs: BlobStore;
  keyRing?: KeyRing;
  clock: { now(): number };
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

  let items: ManifestItem[] = [];
  try {
    items = (await loadManifest(content, snapshot, options.signal)).items;
  } catch (err) {
    report.problems.push({
      kind: hasCode(err, 'not-found') ? 'missing-manifest' : 'corrupt-manifest',
      blob: snapshot.manifestRef,
      items: [],
      message: messageOf(err),
    });
  }

  const byBlob = new Map<string, ManifestItem[]>();
  for (const item of items) {
    if (!item.blob) continue;
    const list = byBlob.get(item.blob) ?? [];
    list.push(item);
    byBlob.set(item.blob, list);
  }
  report.totalBlobs = byBlob.size;
  const share = Math.min(100, Math.max(1, options.samplePercent ?? 100)) / 100;
  const random = options.random ?? Math.random;
  // A sample always reads at least one blob, so a sampled check is never vacuous.
  const chosen = [...byBlob.entries()].filter((_, i) => share >= 1 || random() < share || i === 0);

  for (const [blob, blobItems] of chosen) {
    const refs = blobItems.map((i) => ({ type: i.type, sourceId: i.sourceId }));
    report.checkedBlobs += 1;
    report.checkedItems += blobItems.length;
    let plaintext: BlobMeasure;
    try {
      plaintext = await measureBlob(content, snapshot.uid, blob, signalOpt);
    } catch (err) {
      // Anything but a missing or mismatching blob (storage down, say) is not a finding: rethrow.
      if (!hasCode(err, 'not-found') && codeOf(err) !== 'data-loss') throw err;
      report.problems.push({ kind: hasCode(err, 'not-found') ? 'missing-blob' : 'corrupt-blob', blob, items: refs, message: messageOf(err) });
      continue;
    }
    const expected = blobItems.find((i) => i.blobSize !== undefined)?.blobSize;
    if (expected !== undefined && expected !== plaintext.byteLength) {
      report.problems.push({ kind: 'size-mismatch', blob, items: refs, message: `blob ${blob} has ${plaintext.byteLength} bytes, the manifest says ${expected}` });
      continue;
    }
    const packed = blobItems.filter((i) => i.part !== undefined);
    if (packed.length > 0) {
      const lines = plaintext.records;
      const outside = packed.filter((i) => (i.part as number) >= lines);
      if (outside.length > 0) {
        report.problems.push({
          kind: 'missing-part',
          blob,
          items: outside.map((i) => ({ type: i.type, sourceId: i.sourceId })),
          message: `pack ${blob} has ${lines} records; items point past them`,
        });
      }
    }
  }

  report.ok = report.problems.length === 0;
  const health = { checkedAt: report.checkedAt, ok: report.ok, checkedBlobs: report.checkedBlobs, problems: report.problems.length };
  await deps.store.runTransaction(async (tx) => {
    const current = await tx.getSnapshot(snapshot.id);
    if (current) tx.setSnapshot({ ...current, health });
  });
  return report;
}
