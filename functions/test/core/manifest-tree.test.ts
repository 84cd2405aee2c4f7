/**
 * Manifest trees (core/snapshots/manifest-tree.ts): order, positions, totals, equal runs giving
 * equal nodes, and diffs that read only what changed. Segment entries here are synthetic (a tree
 * never reads its segments), so thousands of them cost nothing.
 */
import { ContentStore } from '../../src/core/content-store';
import { sha256Hex } from '../../src/core/hash';
import type { SegmentEntry } from '../../src/core/model';
import { diffTrees, ManifestTreeBuilder, NODE_MAX_ENTRIES, segmentEntries } from '../../src/core/snapshots/manifest-tree';
import { mayHoldAny, segmentStats } from '../../src/core/snapshots/segment-stats';
import type { BlobStore, GetOptions } from '../../src/ports';
import { MemoryBlobStore } from '../fakes/memory-blob-store';

const UID = 'tess';

function entry(i: number, items = 10): SegmentEntry {
  return { ref: sha256Hex(new TextEncoder().encode(`segment ${i}`)), items, skipped: i % 3 === 0 ? 1 : 0, originalBytes: 100 * items, storedBytes: 40 * items };
}

/** Counts the reads that reach the store. */
class CountingBlobs extends MemoryBlobStore {
  reads = 0;
  override async get(key: string, options?: GetOptions) {
    this.reads += 1;
    return super.get(key, options);
  }
}

async function build(content: ContentStore, entries: readonly SegmentEntry[]) {
  const builder = new ManifestTreeBuilder(content, UID, 'contacts');
  for (const e of entries) await builder.add(e);
  const root = await builder.finish();
  return { root, builder };
}

async function walk(content: ContentStore, root: NonNullable<Awaited<ReturnType<typeof build>>['root']>, from = 0) {
  const out: Array<{ ref: string; ordinal: number }> = [];
  for await (const { entry: e, ordinal } of segmentEntries(content, UID, root, from)) out.push({ ref: e.ref, ordinal });
  return out;
}

describe('manifest trees', () => {
  const entries = Array.from({ length: 5000 }, (_, i) => entry(i));

  it('lists every segment in order, with positions and totals, and starts at any position', async () => {
    const content = new ContentStore(new MemoryBlobStore());
    const { root } = await build(content, entries);
    if (!root) throw new Error('no root');
    expect(root.level).toBeGreaterThanOrEqual(2);
    expect(root).toMatchObject({ segments: 5000, items: 50_000, skipped: 1667, originalBytes: 5_000_000, storedBytes: 2_000_000 });
    const all = await walk(content, root);
    expect(all.map((x) => x.ref)).toEqual(entries.map((e) => e.ref));
    expect(all.map((x) => x.ordinal)).toEqual(entries.map((_, i) => i));
    for (const from of [1, 63, 64, 255, 256, 2500, 4999]) expect((await walk(content, root, from)).map((x) => x.ordinal)[0]).toBe(from);
    expect(await walk(content, root, 5000)).toEqual([]);
  });

  it('an empty tree has no root; one segment is a node of one', async () => {
    const content = new ContentStore(new MemoryBlobStore());
    expect((await build(content, [])).root).toBeNull();
    const { root } = await build(content, [entry(1)]);
    expect(root).toMatchObject({ level: 1, segments: 1, items: 10 });
  });

  it('equal runs give equal nodes: the same segments build the same tree, and one inserted segment writes a few nodes', async () => {
    const blobs = new MemoryBlobStore();
    const content = new ContentStore(blobs);
    const first = await build(content, entries);
    const again = await build(content, entries);
    expect(again.root).toEqual(first.root);
    expect(again.builder.storedBytes).toBe(0);
    const changed = [...entries.slice(0, 2500), entry(99_999), ...entries.slice(2500)];
    const before = (await keys(blobs)).length;
    const next = await build(content, changed);
    const written = (await keys(blobs)).length - before;
    expect(next.root?.ref).not.toBe(first.root?.ref);
    // One leaf, and one node per level above it (a boundary may move: allow one more per level).
    expect(written).toBeLessThanOrEqual(2 * ((next.root?.level ?? 0) + 1));
    expect(first.builder.nodes).toBeGreaterThan(5000 / NODE_MAX_ENTRIES);
  });

  it('diffs read only what changed', async () => {
    const blobs = new CountingBlobs();
    const content = new ContentStore(blobs);
    const { root: prev } = await build(content, entries);
    const changed = entries.map((e, i) => (i === 10 || i === 2600 || i === 4000 ? entry(100_000 + i, 7) : e));
    const { root: next } = await build(content, [...changed, entry(200_000)]);
    blobs.reads = 0;
    const diff = await diffTrees(content, UID, 'contacts', next, prev);
    expect(diff.onlyNew.map((e) => e.ref).sort()).toEqual([entry(100_010, 7), entry(102_600, 7), entry(104_000, 7), entry(200_000)].map((e) => e.ref).sort());
    expect(diff.onlyOld.map((e) => e.ref).sort()).toEqual([entries[10], entries[2600], entries[4000]].map((e) => (e as SegmentEntry).ref).sort());
    expect(diff.shared.contacts?.items).toBe(50_000 - 30);
    // A tree of 5000 segments has about 80 leaves: the diff reads a handful of them per change.
    expect(blobs.reads).toBeLessThan(40);
    blobs.reads = 0;
    expect(await diffTrees(content, UID, 'contacts', prev, prev)).toEqual({ onlyNew: [], onlyOld: [], shared: { contacts: { items: 50_000, skipped: 1667 } } });
    expect(blobs.reads).toBe(0);
    const fromNothing = await diffTrees(content, UID, 'contacts', next, null);
    expect(fromNothing.onlyNew).toHaveLength(5001);
  });
});

describe('segment stats', () => {
  it('bound every key, even long ones, and tell which keys a segment may hold', () => {
    const long = 'x'.repeat(300);
    const items = ['b', `${long}a`, `${long}z`, 'm'].map((sourceId) => ({ type: 'contacts' as const, sourceId, blob: 'a'.repeat(64), originalSize: 1, storedSize: 1, transforms: [] }));
    const stats = segmentStats(items);
    expect(stats.minKey).toBe('b');
    expect((stats.maxKey ?? '').length).toBeLessThanOrEqual(128);
    for (const item of items) expect(mayHoldAny(stats, [item.sourceId])).toBe(true);
    expect(mayHoldAny(stats, ['a', 'zz'])).toBe(false);
    expect(mayHoldAny(stats, ['a', 'c'])).toBe(true);
    expect(mayHoldAny({}, ['anything'])).toBe(true);
  });

  it('keeps per-conversation chat marks and the part of a large file', () => {
    const chat = (conversationId: string, id: string, at: string) => ({ type: 'chats' as const, sourceId: id, conversationId, at, blob: 'b'.repeat(64), part: 0, originalSize: 1, storedSize: 1, transforms: [] });
    expect(segmentStats([chat('c1', 'm1', '2024-01-01T00:00:00Z'), chat('c1', 'm2', '2024-02-01T00:00:00Z'), chat('c0', 'm1', '2023-01-01T00:00:00Z')]).marks).toEqual([
      ['c0', '2023-01-01T00:00:00Z'],
      ['c1', '2024-02-01T00:00:00Z'],
    ]);
    const part = { type: 'media' as const, sourceId: 'v.mov', blob: 'c'.repeat(64), segment: { index: 1, offset: 64, fileSize: 128 }, originalSize: 64, storedSize: 64, transforms: [] };
    expect(segmentStats([part]).file).toEqual({ id: 'v.mov', offset: 64 });
  });
});

async function keys(blobs: BlobStore): Promise<string[]> {
  const out: string[] = [];
  for await (const info of blobs.list('')) out.push(info.key);
  return out;
}
