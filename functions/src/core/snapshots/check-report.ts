/**
 * What `check` reports (`check-repository.ts`): every missing or corrupt object of a user's
 * repository, named by what it breaks: the snapshots that lost data through it (and which items),
 * and the chunk-index entries that rely on it, each of which would make the next backup of its
 * chunk take the chunk as stored and write a snapshot without it. And, after `repair`, what was
 * done about it (`check-repair.ts`).
 */
import type { BackupType } from '../model';

/**
 * - `corrupt-snapshot-record`: a snapshot record that does not parse, or names a manifest that is
 *   not its own (the totals disagree);
 * - `missing-*` / `corrupt-*` of `manifest` (a snapshot's root), `node` (a tree node), `segment`
 *   (a chunk result or carried segment, also one only the index names), `watermarks` (chats):
 *   a blob of the manifest that is gone, fails its hash or does not parse;
 * - `missing-blob` / `corrupt-blob`: an item's content; `size-mismatch`: its plaintext size is not
 *   the manifest's; `missing-part`: packed items point past the pack's records (the last three
 *   only when the blob was re-read, `readDataPercent`);
 * - `corrupt-index-entry`: a chunk-index entry that does not parse, or names a result that is
 *   another chunk's.
 */
export const CHECK_PROBLEM_KINDS = [
  'corrupt-snapshot-record',
  'missing-manifest',
  'corrupt-manifest',
  'missing-node',
  'corrupt-node',
  'missing-segment',
  'corrupt-segment',
  'missing-watermarks',
  'corrupt-watermarks',
  'missing-blob',
  'corrupt-blob',
  'size-mismatch',
  'missing-part',
  'corrupt-index-entry',
] as const;
export type CheckProblemKind = (typeof CHECK_PROBLEM_KINDS)[number];

/** Problems of a snapshot's manifest itself: items below them cannot even be listed. */
export const MANIFEST_DAMAGE: ReadonlySet<CheckProblemKind> = new Set([
  'missing-manifest', 'corrupt-manifest', 'missing-node', 'corrupt-node', 'missing-segment', 'corrupt-segment', 'missing-watermarks', 'corrupt-watermarks',
]);

/** Problems about a stored blob (the rest are about records). */
export const BLOB_PROBLEMS: ReadonlySet<CheckProblemKind> = new Set([...MANIFEST_DAMAGE, 'missing-blob', 'corrupt-blob', 'size-mismatch', 'missing-part']);

/** Items a problem lists; `itemCount` counts them all. */
export const CHECK_LISTED_ITEMS = 100;

export interface CheckProblem {
  kind: CheckProblemKind;
  /** The object at fault: a blob's hash, a snapshot id (`corrupt-snapshot-record`), a chunk-index key (`corrupt-index-entry`). */
  ref: string;
  message: string;
  /** Snapshots that lost data through it: items that cannot be restored, or not even listed. */
  snapshots: string[];
  /** Items whose data is lost, at most {@link CHECK_LISTED_ITEMS} (empty when the manifest object that lists them is lost). */
  items: Array<{ type: BackupType; sourceId: string }>;
  /** Items lost in all: those listed, or those a lost manifest object's entry counts. */
  itemCount: number;
  /**
   * Chunk-index entries (keys) that rely on it: the next backup of each of those chunks would take
   * the chunk as stored and write a snapshot that lacks this. A repair drops them.
   */
  indexEntries: string[];
  /** Whether the problem is left after the run: a snapshot's lost data stays (marked); an entry a repair dropped does not. */
  remains: boolean;
  /** What a repair did about it. */
  repaired?: {
    /** Of `indexEntries` (or the entry at fault), those dropped. */
    droppedIndexEntries: number;
    /** The corrupt blob was moved to `quarantine/{uid}/`, so the next backup that has its content stores it again. */
    quarantined: boolean;
  };
}

/** A snapshot with problems, as a repair marks it (`Snapshot.health`). */
export interface DamagedSnapshot {
  id: string;
  deviceId: string;
  /** Problems it has. */
  problems: number;
  /** Part of its manifest is lost (`SnapshotHealth.manifestDamaged`): later backups of the device do not take it as their baseline. */
  manifestDamaged: boolean;
  /** Blobs checked for it: its manifest objects and, per segment, the content blobs it names. */
  checkedBlobs: number;
}

export interface RepairReport {
  droppedIndexEntries: number;
  quarantinedBlobs: number;
  /** Damaged snapshots whose `health` now says so. */
  markedSnapshots: number;
  /**
   * Snapshots marked `manifestDamaged` earlier whose manifest this check read whole without a
   * problem (a backup stored the lost objects again): the mark is cleared, so they serve as
   * baselines again. Their `ok` stays as it was until a verify.
   */
  clearedMarks: number;
  /** Findings that had changed when the repair came to them (a blob written again, an entry replaced), left alone. */
  alreadyFixed: number;
  /** The repair stopped before it was done: its lease was lost or the run was aborted; run it again. */
  stoppedEarly: boolean;
  stopReason?: string;
}

export interface UserCheckReport {
  uid: string;
  /** True when no problem remains (none was found, or a repair dealt with every one that did not lose a snapshot's data). */
  ok: boolean;
  checkedAt: number;
  /** Share of content blobs re-read (hash, size, pack records), 0 to 100. */
  readDataPercent: number;
  snapshots: number;
  indexEntries: number;
  /** Blobs under the user's namespace when the check listed it. */
  listedBlobs: number;
  /** Manifest objects read, hash-checked and parsed (roots, nodes, segments, watermarks, results only the index names). */
  manifestObjects: number;
  /** Distinct content blobs the manifests and the index name, and how many of them were re-read. */
  contentBlobs: number;
  contentRead: number;
  /** Segments with a chunk id that no index entry names: harmless (the next backup of the chunk sends it again), counted for the record. */
  unindexedResults: number;
  problems: CheckProblem[];
  damagedSnapshots: DamagedSnapshot[];
  /** Null without `repair`. */
  repair: RepairReport | null;
}

export interface CheckReport {
  /** Every user's report is ok. */
  ok: boolean;
  users: UserCheckReport[];
}
