/**
 * `diffSnapshots`: items added, removed, changed and unchanged per type, a large file compared by
 * all its parts, chat messages named by conversation; no blob is read, only the manifests.
 */
import { ContentStore } from '../../src/core/content-store';
import { diffSnapshots } from '../../src/core/snapshots/diff';
import type { BlobStore } from '../../src/ports';
import { craftedSnapshot, GOOD_PARTS } from '../fakes/crafted-snapshot';
import { MemoryBlobStore } from '../fakes/memory-blob-store';

describe('diffSnapshots', () => {
  it('counts per type and lists the changed items, reading the two manifests only', async () => {
    const inner = new MemoryBlobStore();
    const reads: string[] = [];
    const blobs: BlobStore = Object.assign(Object.create(inner) as BlobStore, {
      get: (key: string, options?: Parameters<BlobStore['get']>[1]) => {
        reads.push(key);
        return inner.get(key, options);
      },
    });
    const content = new ContentStore(blobs);
    const shorter = GOOD_PARTS.slice(0, 2).map((p) => ({ ...p, fileSize: 2000 }));
    const a = await craftedSnapshot(content, 'ida', { 'kept.mov': GOOD_PARTS, 'edited.mov': GOOD_PARTS, 'gone.mov': GOOD_PARTS }, { id: 'snap_a' });
    const b = await craftedSnapshot(content, 'ida', { 'kept.mov': GOOD_PARTS, 'edited.mov': shorter, 'new.mov': GOOD_PARTS }, { id: 'snap_b' });
    reads.length = 0;
    const diff = await diffSnapshots(content, a, b, { items: true });
    expect(diff.byType).toEqual({ media: { added: 1, removed: 1, changed: 1, unchanged: 3 } });
    expect(diff.items).toEqual([
      { type: 'media', sourceId: 'edited.mov', change: 'changed' },
      { type: 'media', sourceId: 'new.mov', change: 'added' },
      { type: 'media', sourceId: 'gone.mov', change: 'removed' },
    ]);
    expect(reads.map((k) => k.split('/').pop())).toEqual([a.manifestRef, b.manifestRef]);
    expect((await diffSnapshots(content, a, b)).items).toBeUndefined();
  });
});
