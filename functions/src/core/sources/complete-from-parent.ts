/**
 * Run by finalize for each type of the job: the type's changes against its parent snapshot (the
 * device's newest earlier snapshot holding the type, `baseline.ts`), and with `incrementalOnly`
 * the parent's chats and media carried forward, so every snapshot lists the whole set and restores
 * alone (restore never walks a chain of snapshots).
 *
 * - contacts and device info are always sent whole: the diff names contacts added, changed (other
 *   record digest) and removed (in the parent, not here);
 * - chats and media: without `incrementalOnly` the same; with it the device (or source) sends only
 *   what changed, so what the job lacks is carried forward, and removals are the tombstones sent.
 *
 * Both work on segments (docs/invariants.md, "Manifests"): a diff compares only the segments the
 * two trees do not share, and a carry reads only the parent segments whose key range may hold a
 * key the job sent; every other parent segment is carried by reference, unread.
 */
import type { CallOptions } from '../../ports';
import type { ContentStore } from '../content-store';
import { codeOf, hasCode } from '../errors';
import type { BackupType, ManifestItem, NodeEntry, SegmentEntry, Snapshot } from '../model';
import { diffTrees, segmentEntries } from '../snapshots/manifest-tree';
import { countsByType, itemKey, mayHoldAny, segmentStats } from '../snapshots/segment-stats';
import { readSegment, treeOf, type OpenedManifest } from '../snapshots/snapshot-manifest';

/** Items compared one by one in one diff; beyond it a type's changes are estimated from segment stats. */
export const DIFF_ITEM_BUDGET = 200_000;
/** Items per segment finalize writes for items carried from a format-1 parent. */
const CARRIED_SEGMENT_ITEMS = 1000;

/** The types whose items an `incrementalOnly` backup carries forward from its parent. */
export const CARRIED_TYPES: ReadonlySet<BackupType> = new Set(['chats', 'media']);

/** Equal records have equal digests; older manifests without one compare by blob and line. */
const identityOf = (item: ManifestItem): string => item.digest ?? `${item.blob ?? ''}:${item.part ?? ''}`;
const isTombstone = (item: ManifestItem) => item.transforms.includes('tombstone');

export interface ParentOf {
  snapshot: Snapshot;
  manifest: OpenedManifest;
}

interface Counts {
  added: number;
  changed: number;
  removed: number;
  unchanged: number;
  carried: number;
  estimated?: true;
}

/** Changes of the items of one tree, by their own types (a chats tree holds the media of its messages). */
export type TreeChanges = Partial<Record<BackupType, Counts>>;

const countsOf = (changes: TreeChanges, type: BackupType): Counts => (changes[type] ??= { added: 0, changed: 0, removed: 0, unchanged: 0, carried: 0 });

/** The old rules, item by item: `current` against the `before` items with the same keys. */
function compareItems(current: ReadonlyMap<string, ManifestItem>, before: ReadonlyMap<string, ManifestItem>, changes: TreeChanges): void {
  for (const [key, item] of current) {
    const counts = countsOf(changes, item.type);
    const prior = before.get(key);
    if (isTombstone(item) && prior?.transforms.includes('tombstone') !== true) counts.removed += 1;
    else if (!prior) counts.added += 1;
    else if (identityOf(prior) !== identityOf(item)) counts.changed += 1;
    else counts.unchanged += 1;
  }
}

function countRemoved(current: ReadonlyMap<string, ManifestItem>, before: ReadonlyMap<string, ManifestItem>, changes: TreeChanges): void {
  for (const [key, item] of before) if (!current.has(key)) countsOf(changes, item.type).removed += 1;
}

/** Stored items by type-qualified key: a key names an item within its type. */
const keyed = (item: ManifestItem) => `${item.type}\u0000${itemKey(item)}`;

async function storedItemsOf(content: ContentStore, uid: string, entries: readonly SegmentEntry[], options: CallOptions): Promise<Map<string, ManifestItem>> {
  const out = new Map<string, ManifestItem>();
  for (const entry of entries) {
    for (const item of (await readSegment(content, uid, entry.ref, options)).items) if (item.blob !== null) out.set(keyed(item), item);
  }
  return out;
}

/** A segment's or a whole subtree's counts (`SegmentEntry`, `NodeEntry`). */
type Counted = Parameters<typeof countsByType>[0];

const storedOf = (entries: readonly Counted[], type: BackupType): TreeChanges => {
  const out: TreeChanges = {};
  for (const entry of entries) {
    for (const [t, c] of Object.entries(countsByType(entry, type)) as Array<[BackupType, { items: number; skipped: number }]>) countsOf(out, t).added += c.items - c.skipped;
  }
  return out;
};

/** A blob that is gone or damaged: a finding about the data, not a reason to retry. */
const isLostData = (err: unknown): boolean => hasCode(err, 'not-found') || codeOf(err) === 'data-loss';

/** Counts from segment stats alone: what only the new tree holds is added, what only the old one holds removed. */
function estimated(changes: TreeChanges, type: BackupType, onlyNew: readonly Counted[], onlyOld: readonly Counted[]): TreeChanges {
  for (const [t, c] of Object.entries(storedOf(onlyNew, type)) as Array<[BackupType, Counts]>) Object.assign(countsOf(changes, t), { added: c.added, estimated: true });
  for (const [t, c] of Object.entries(storedOf(onlyOld, type)) as Array<[BackupType, Counts]>) Object.assign(countsOf(changes, t), { removed: c.added, estimated: true });
  return changes;
}

/**
 * The changes of a tree sent whole (not carried): the new tree against the parent's of the same
 * type. Without a parent every stored item is added (a tombstone counts as removed, as it always
 * did). Beyond {@link DIFF_ITEM_BUDGET} differing items the counts are estimated from stats.
 */
export async function diffType(
  content: ContentStore,
  uid: string,
  type: BackupType,
  tree: NodeEntry | null,
  parent: ParentOf | null,
  options: CallOptions = {},
): Promise<TreeChanges> {
  const changes: TreeChanges = {};
  if (!parent) {
    if (tree) {
      for await (const { entry } of segmentEntries(content, uid, tree, 0, options)) {
        const tombstones = entry.tombstones ?? 0;
        for (const [t, c] of Object.entries(countsByType(entry, type)) as Array<[BackupType, { items: number; skipped: number }]>) countsOf(changes, t).added += c.items - c.skipped;
        // Tombstones are chat messages: counted as removals of the tree's own type.
        countsOf(changes, type).added -= tombstones;
        countsOf(changes, type).removed += tombstones;
      }
    }
    return changes;
  }
  if (parent.manifest.format === 1) {
    // A parent written before segments: compared item by item as before (its manifest is whole anyway).
    const current = new Map<string, ManifestItem>();
    if (tree) for await (const { entry } of segmentEntries(content, uid, tree, 0, options)) for (const [k, v] of await storedItemsOf(content, uid, [entry], options)) current.set(k, v);
    const types = new Set([...current.values()].map((i) => i.type));
    types.add(type);
    const before = new Map(parent.manifest.items.filter((i) => types.has(i.type) && i.blob !== null).map((i) => [keyed(i), i]));
    compareItems(current, before, changes);
    countRemoved(current, before, changes);
    return changes;
  }
  const parentTree = treeOf(parent.manifest.root, type);
  let difference: Awaited<ReturnType<typeof diffTrees>>;
  try {
    difference = await diffTrees(content, uid, type, tree, parentTree, options);
  } catch (err) {
    // A node of the parent is lost (issue 14): the counts are only a report, so the backup goes
    // on with them estimated from the two trees' totals rather than fail on the parent's damage.
    if (!isLostData(err)) throw err;
    return estimated(changes, type, tree ? [tree] : [], parentTree ? [parentTree] : []);
  }
  for (const [t, c] of Object.entries(difference.shared) as Array<[BackupType, { items: number; skipped: number }]>) countsOf(changes, t).unchanged += c.items - c.skipped;
  const size = (entries: readonly SegmentEntry[]) => entries.reduce((n, e) => n + e.items - e.skipped, 0);
  if (size(difference.onlyNew) + size(difference.onlyOld) > DIFF_ITEM_BUDGET) return estimated(changes, type, difference.onlyNew, difference.onlyOld);
  const current = await storedItemsOf(content, uid, difference.onlyNew, options);
  let before: Map<string, ManifestItem>;
  try {
    before = await storedItemsOf(content, uid, difference.onlyOld, options);
  } catch (err) {
    // A segment of the parent is lost (a chunk result gone with its index entry, issue 14): estimated, as above.
    if (!isLostData(err)) throw err;
    return estimated(changes, type, difference.onlyNew, difference.onlyOld);
  }
  compareItems(current, before, changes);
  countRemoved(current, before, changes);
  return changes;
}

/** What an incremental carry did. */
export interface CarryResult {
  changes: TreeChanges;
  /**
   * Keys of the job's items that took their earlier version's place in a parent segment (an edit
   * or a deletion of a message the parent holds): the job's own segments leave them out, so each
   * message is listed once, where it sits in time.
   */
  placed: ReadonlySet<string>;
}

/**
 * `incrementalOnly`: compares what the job sent (`own`) with the parent's items of the same keys
 * and hands every parent item the job did not replace to `emit`, as segments: a parent segment
 * no sent key can be in, holding no skipped item, goes by reference; one that may is read, and
 * what is left of it (stored items, with the job's newer version of any it sent in its place) is
 * written as a new segment.
 */
export async function carryType(
  content: ContentStore,
  uid: string,
  type: BackupType,
  own: readonly SegmentEntry[],
  parent: ParentOf,
  emit: (entry: SegmentEntry) => Promise<void>,
  /** Format-1 parents list every item flat: which of them this tree carries. */
  legacyHolds: (item: ManifestItem) => boolean,
  options: CallOptions = {},
): Promise<CarryResult> {
  const current = await storedItemsOf(content, uid, own, options);
  // Ranges are over untyped keys (`itemKey`): a range test may only over-select, never miss.
  const keys = [...new Set([...current.values()].map((i) => itemKey(i)))].sort();
  const before = new Map<string, ManifestItem>();
  const placed = new Set<string>();
  const changes: TreeChanges = {};
  const writeCarried = async (items: ManifestItem[]) => {
    const put = await content.put(uid, new TextEncoder().encode(JSON.stringify({ type, items })), options);
    await emit({ ref: put.hash, ...segmentStats(items) });
  };
  /** The parent items kept, the job's newer versions in their places; counts what was carried. */
  const keep = (items: readonly ManifestItem[]): ManifestItem[] => {
    const kept: ManifestItem[] = [];
    for (const item of items) {
      if (item.blob === null) continue;
      const key = keyed(item);
      const newer = current.get(key);
      if (!newer) {
        kept.push(item);
        countsOf(changes, item.type).carried += 1;
      } else {
        before.set(key, item);
        if (!placed.has(key)) {
          placed.add(key);
          kept.push(newer);
        }
      }
    }
    return kept;
  };
  if (parent.manifest.format === 1) {
    const kept = keep(parent.manifest.items.filter(legacyHolds));
    for (let i = 0; i < kept.length; i += CARRIED_SEGMENT_ITEMS) await writeCarried(kept.slice(i, i + CARRIED_SEGMENT_ITEMS));
  } else {
    const tree = treeOf(parent.manifest.root, type);
    if (tree) {
      for await (const { entry } of segmentEntries(content, uid, tree, 0, options)) {
        if (entry.skipped === 0 && !mayHoldAny(entry, keys)) {
          await emit(entry);
          for (const [t, c] of Object.entries(countsByType(entry, type)) as Array<[BackupType, { items: number; skipped: number }]>) countsOf(changes, t).carried += c.items;
          continue;
        }
        const segment = await readSegment(content, uid, entry.ref, options);
        const kept = keep(segment.items);
        const same = kept.length === segment.items.length && kept.every((item, i) => item === segment.items[i]);
        if (same) await emit(entry);
        else if (kept.length > 0) await writeCarried(kept);
      }
    }
  }
  compareItems(current, before, changes);
  return { changes, placed };
}

/**
 * The job's own segment without the items a carry placed in the parent's segments: the entry as
 * it is when it holds none of them, else a new segment of the rest (none when nothing is left).
 */
export async function withoutPlaced(content: ContentStore, uid: string, type: BackupType, entry: SegmentEntry, placed: ReadonlySet<string>, options: CallOptions = {}): Promise<SegmentEntry | null> {
  if (placed.size === 0 || !mayHoldAny(entry, [...new Set([...placed].map((k) => k.slice(k.indexOf('\u0000') + 1)))].sort())) return entry;
  const { items } = await readSegment(content, uid, entry.ref, options);
  const rest = items.filter((i) => i.blob === null || !placed.has(keyed(i)));
  if (rest.length === items.length) return entry;
  if (rest.length === 0) return null;
  const put = await content.put(uid, new TextEncoder().encode(JSON.stringify({ type, items: rest })), options);
  return { ref: put.hash, ...segmentStats(rest) };
}
