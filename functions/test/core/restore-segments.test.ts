/**
 * A large media file's parts come back in file order whatever order its manifest lists them in
 * (`inFileOrder`, used by `restoreItems` and `getRestorePlan`), and the rest of the manifest
 * keeps its order.
 */
import { ContentStore } from '../../src/core/content-store';
import { encodeManifest } from '../../src/core/manifest';
import { MANIFEST_FORMAT, type ManifestItem, type Snapshot } from '../../src/core/model';
import { inFileOrder, restoredBytes, restoreItems } from '../../src/core/snapshots/restore-items';
import { MemoryBlobStore } from '../fakes/memory-blob-store';

const UID = 'una';
const file = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7) % 256);
const cuts = [0, 1000, 2000, 3000];

async function setUp(order: number[]): Promise<{ content: ContentStore; snapshot: Snapshot }> {
  const content = new ContentStore(new MemoryBlobStore());
  const parts: ManifestItem[] = [];
  for (let index = 0; index < 3; index++) {
    const bytes = file.subarray(cuts[index], cuts[index + 1]);
    const { hash } = await content.put(UID, bytes);
    parts.push({
      type: 'media',
      sourceId: 'Movies/long.mov',
      blob: hash,
      blobSize: bytes.byteLength,
      segment: { index, offset: cuts[index] as number, fileSize: file.byteLength },
      originalSize: bytes.byteLength,
      storedSize: bytes.byteLength,
      transforms: ['stored as is'],
    });
  }
  const note = await content.put(UID, new TextEncoder().encode('note'));
  const other: ManifestItem = { type: 'media', sourceId: 'note.txt', blob: note.hash, originalSize: 4, storedSize: 4, transforms: [] };
  const items = [other, ...order.map((i) => parts[i] as ManifestItem), { ...other, sourceId: 'note-2.txt' }];
  const manifest = await content.put(
    UID,
    encodeManifest({ format: MANIFEST_FORMAT, snapshotId: 's1', jobId: 'j1', uid: UID, deviceId: 'd', createdAt: 1, types: ['media'], items: items.length }, items),
  );
  const snapshot: Snapshot = {
    id: 's1', uid: UID, jobId: 'j1', deviceId: 'd', parentId: null, types: ['media'], createdAt: 1, manifestRef: manifest.hash,
    totals: { items: items.length, skippedItems: 0, chunks: 1, originalBytes: 0, storedBytes: 0 }, byType: {}, health: null,
  };
  return { content, snapshot };
}

describe('restore of a file stored in parts', () => {
  it.each([[[0, 1, 2]], [[2, 0, 1]], [[1, 2, 0]]])('joins parts listed as %j in offset order', async (order) => {
    const { content, snapshot } = await setUp(order);
    const restored: Array<{ id: string; offset: number | null; bytes: Uint8Array }> = [];
    for await (const r of restoreItems(content, snapshot)) {
      // Whole blobs stream; each must be read before the next item closes it.
      expect(r.bytes).toBeNull();
      restored.push({ id: r.item.sourceId, offset: r.item.segment?.offset ?? null, bytes: (await restoredBytes(r)) as Uint8Array });
    }
    expect(restored.map((r) => [r.id, r.offset])).toEqual([
      ['note.txt', null],
      ['Movies/long.mov', 0],
      ['Movies/long.mov', 1000],
      ['Movies/long.mov', 2000],
      ['note-2.txt', null],
    ]);
    const joined = Buffer.concat(restored.filter((r) => r.id === 'Movies/long.mov').map((r) => r.bytes));
    expect(joined.equals(Buffer.from(file))).toBe(true);
  });

  it('keeps manifest order for everything else and for equal offsets (stable)', () => {
    const seg = (sourceId: string, offset: number, tag: string) => ({ type: 'media' as const, sourceId, segment: { index: 0, offset, fileSize: 10 }, tag });
    const plain = (sourceId: string) => ({ type: 'contacts' as const, sourceId, tag: sourceId });
    const items = [plain('a'), seg('f', 5, 'f5'), plain('b'), seg('g', 3, 'g3'), seg('f', 0, 'f0'), seg('g', 0, 'g0'), seg('f', 5, 'f5bis'), plain('c')];
    expect(inFileOrder(items).map((i) => i.tag)).toEqual(['a', 'f0', 'f5', 'f5bis', 'b', 'g0', 'g3', 'c']);
  });
});
