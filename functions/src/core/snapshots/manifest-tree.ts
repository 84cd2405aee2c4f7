/**
 * Manifest trees (docs/invariants.md, "Manifests"): a type's segments, in order, under a tree of
 * content-addressed nodes. A node ends after an entry whose name falls below a threshold (content
 * defined, about 1 entry in 64) or at 256 entries, so equal runs of segments give equal nodes:
 * a backup that changed a few chunks writes a few nodes, an unchanged one writes none, and two
 * trees are compared by walking only the nodes they do not share. Every node carries the totals of
 * what is below it, so totals and positions (for restore-plan paging) need no segment read.
 *
 * Memory: the builder holds one open node per level (at most 256 entries each); readers hold a
 * node per level plus a bounded read-ahead.
 */
import type { CallOptions } from '../../ports';
import type { ContentStore } from '../content-store';
import { lifeboatError } from '../errors';
import { ManifestNode, MANIFEST_NODE_FORMAT, type BackupType, type NodeEntry, type SegmentEntry } from '../model';
import { addCounts, countsByType, type TypeCounts } from './segment-stats';

/** Most entries in one node. */
export const NODE_MAX_ENTRIES = 256;
/** A node ends after an entry whose name's first byte is below this: 4/256, 1 in 64 on average. */
const BOUNDARY_BELOW = 4;
/** Nodes read ahead by a walk. */
const READ_AHEAD = 8;

const isBoundary = (ref: string) => parseInt(ref.slice(0, 2), 16) < BOUNDARY_BELOW;

type Entry = SegmentEntry | NodeEntry;

function totalsOf(entries: readonly Entry[], level: number, type: BackupType): Omit<NodeEntry, 'ref' | 'level'> {
  const totals: Omit<NodeEntry, 'ref' | 'level'> = { items: 0, skipped: 0, originalBytes: 0, storedBytes: 0, segments: 0 };
  const mixed = entries.some((e) => e.types !== undefined);
  const types: TypeCounts = {};
  for (const e of entries) {
    totals.items += e.items;
    totals.skipped += e.skipped;
    totals.originalBytes += e.originalBytes;
    totals.storedBytes += e.storedBytes;
    totals.segments += level === 1 ? 1 : (e as NodeEntry).segments;
    if (mixed) addCounts(types, countsByType(e, type));
  }
  if (mixed) totals.types = types;
  return totals;
}

/**
 * Builds one type's tree from its segment entries in order, writing each node as it closes
 * (content-addressed, create-if-absent: a node the user already has costs nothing).
 */
export class ManifestTreeBuilder {
  /** `open[i]`: entries of the open node of level i + 1. */
  private readonly open: Entry[][] = [[]];
  /** Bytes of nodes this build newly stored. */
  storedBytes = 0;
  /** Nodes this build wrote (newly or not). */
  nodes = 0;

  constructor(
    private readonly content: ContentStore,
    private readonly uid: string,
    /** The tree's type: items of other types in its segments are counted apart (`SegmentStats.types`). */
    private readonly type: BackupType,
    private readonly options: CallOptions = {},
  ) {}

  add(entry: SegmentEntry): Promise<void> {
    return this.push(0, entry);
  }

  private async push(index: number, entry: Entry): Promise<void> {
    const level = (this.open[index] ??= []);
    level.push(entry);
    if (isBoundary(entry.ref) || level.length >= NODE_MAX_ENTRIES) await this.close(index);
  }

  private async close(index: number): Promise<void> {
    const entries = this.open[index] ?? [];
    this.open[index] = [];
    const level = index + 1;
    const node = { format: MANIFEST_NODE_FORMAT, level, entries } as ManifestNode;
    const put = await this.content.put(this.uid, new TextEncoder().encode(JSON.stringify(node)), this.options);
    this.nodes += 1;
    if (put.created) this.storedBytes += put.storedSize;
    await this.push(index + 1, { ref: put.hash, level, ...totalsOf(entries, level, this.type) });
  }

  /** Closes every open node; the root entry, or null when no segment was added. */
  async finish(): Promise<NodeEntry | null> {
    for (let index = 0; index < this.open.length; index++) {
      const entries = this.open[index] ?? [];
      const top = index === this.open.length - 1;
      if (top && index > 0 && entries.length === 1) return entries[0] as NodeEntry;
      if (top && entries.length === 0) return null;
      if (entries.length > 0) await this.close(index);
    }
    return null;
  }
}

/** Reads and checks one node: content-addressed through the content store, validated, of the level its entry says. */
export async function readNode(content: ContentStore, uid: string, entry: Pick<NodeEntry, 'ref' | 'level'>, options: CallOptions = {}): Promise<ManifestNode> {
  const bytes = await content.get(uid, entry.ref, options);
  let node: ManifestNode;
  try {
    node = ManifestNode.parse(JSON.parse(new TextDecoder().decode(bytes)));
  } catch (err) {
    throw lifeboatError('data-loss', `manifest node ${entry.ref} is corrupt: ${(err as Error).message.slice(0, 200)}`);
  }
  if (node.level !== entry.level) throw lifeboatError('data-loss', `manifest node ${entry.ref} is of level ${node.level}, its parent says ${entry.level}`);
  return node;
}

/** Maps `fn` over `items` with up to `window` calls in flight, yielding results in order. */
async function* inOrder<T, R>(items: readonly T[], fn: (item: T) => Promise<R>, window: number): AsyncGenerator<R> {
  const pending: Array<Promise<R>> = [];
  let next = 0;
  const fill = () => {
    while (pending.length < window && next < items.length) {
      const p = fn(items[next++] as T);
      // Awaited in order below; a rejection is observed there, not reported as unhandled.
      p.catch(() => undefined);
      pending.push(p);
    }
  };
  fill();
  while (pending.length > 0) {
    const value = await (pending.shift() as Promise<R>);
    fill();
    yield value;
  }
}

export interface PositionedEntry {
  entry: SegmentEntry;
  /** Position of the segment in the tree's order, from 0. */
  ordinal: number;
}

/**
 * The tree's segment entries in order, starting at position `from` (subtrees wholly before it are
 * skipped by their segment counts, unread).
 */
export async function* segmentEntries(content: ContentStore, uid: string, root: NodeEntry, from = 0, options: CallOptions = {}): AsyncGenerator<PositionedEntry> {
  if (from >= root.segments) return;
  async function* walk(node: ManifestNode, start: number, skip: number): AsyncGenerator<PositionedEntry> {
    if (node.level === 1) {
      const entries = node.entries as SegmentEntry[];
      for (let i = skip; i < entries.length; i++) yield { entry: entries[i] as SegmentEntry, ordinal: start + i };
      return;
    }
    const children: Array<{ entry: NodeEntry; start: number; skip: number }> = [];
    let at = start;
    let left = skip;
    for (const child of node.entries as NodeEntry[]) {
      if (left >= child.segments) {
        left -= child.segments;
      } else {
        children.push({ entry: child, start: at, skip: left });
        left = 0;
      }
      at += child.segments;
    }
    if (node.level === 2) {
      // Children are leaves: read them ahead, in order.
      for await (const { leaf, child } of inOrder(children, async (child) => ({ leaf: await readNode(content, uid, child.entry, options), child }), READ_AHEAD)) {
        yield* walk(leaf, child.start, child.skip);
      }
      return;
    }
    for (const child of children) yield* walk(await readNode(content, uid, child.entry, options), child.start, child.skip);
  }
  yield* walk(await readNode(content, uid, root, options), 0, from);
}

export interface TreeDifference {
  /** Segments of the new tree the old one lacks, in no particular order. */
  onlyNew: SegmentEntry[];
  /** Segments of the old tree the new one lacks. */
  onlyOld: SegmentEntry[];
  /** Totals of what both trees share (whole subtrees and single segments), by item type. */
  shared: TypeCounts;
}

/**
 * Compares two trees by expanding only the nodes they do not share, highest level first, and
 * cancelling equal names pairwise at each step: the work grows with what changed.
 */
export async function diffTrees(content: ContentStore, uid: string, type: BackupType, next: NodeEntry | null, prev: NodeEntry | null, options: CallOptions = {}): Promise<TreeDifference> {
  type Item = { entry: Entry; level: number };
  let a: Item[] = next ? [{ entry: next, level: next.level }] : [];
  let b: Item[] = prev ? [{ entry: prev, level: prev.level }] : [];
  const shared: TypeCounts = {};
  for (;;) {
    const counts = new Map<string, number>();
    for (const x of b) counts.set(x.entry.ref, (counts.get(x.entry.ref) ?? 0) + 1);
    const keptA: Item[] = [];
    const matched = new Map<string, number>();
    for (const x of a) {
      const n = counts.get(x.entry.ref) ?? 0;
      if (n > 0) {
        counts.set(x.entry.ref, n - 1);
        matched.set(x.entry.ref, (matched.get(x.entry.ref) ?? 0) + 1);
        addCounts(shared, countsByType(x.entry, type));
      } else {
        keptA.push(x);
      }
    }
    const keptB: Item[] = [];
    for (const x of b) {
      const n = matched.get(x.entry.ref) ?? 0;
      if (n > 0) matched.set(x.entry.ref, n - 1);
      else keptB.push(x);
    }
    a = keptA;
    b = keptB;
    const top = Math.max(0, ...a.map((x) => x.level), ...b.map((x) => x.level));
    if (top === 0) break;
    const expand = async (list: Item[]): Promise<Item[]> => {
      const out: Item[] = [];
      for await (const expanded of inOrder(list, async (x) => {
        if (x.level !== top) return [x];
        const node = await readNode(content, uid, x.entry as NodeEntry, options);
        return node.level === 1
          ? (node.entries as SegmentEntry[]).map((entry) => ({ entry, level: 0 }))
          : (node.entries as NodeEntry[]).map((entry) => ({ entry, level: entry.level }));
      }, READ_AHEAD)) out.push(...expanded);
      return out;
    };
    a = await expand(a);
    b = await expand(b);
  }
  return { onlyNew: a.map((x) => x.entry as SegmentEntry), onlyOld: b.map((x) => x.entry as SegmentEntry), shared };
}
