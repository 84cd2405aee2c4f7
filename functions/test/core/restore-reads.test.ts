/**
 * restoreItems reads a blob once even when the items go back to it (a conversation in time order
 * moves between its old pack and a new one), keeping a few recent small blobs.
 */
import { ContentStore } from '../../src/core/content-store';
import { encodeManifest } from '../../src/core/manifest';
import { MANIFEST_FORMAT, type ManifestItem, type Snapshot } from '../../src/core/model';
import { restoreItems } from '../../src/core/snapshots/restore-items';
import type { BlobStore } from '../../src/ports';
import { MemoryBlobStore } from '../fakes/memory-blob-store';

it('reads each pack once when the items alternate between packs', async () => {
  const inner = new MemoryBlobStore();
  const reads: string[] = [];
  const blobs: BlobStore = {
    put: (key, body, options) => inner.put(key, body, options),
    get: (key, options) => {
      reads.push(key);
      return inner.get(key, options);
    },
    stat: (key, options) => inner.stat(key, options),
    exists: (key, options) => inner.exists(key, options),
    delete: (key, options) => inner.delete(key, options),
    list: (prefix, options) => inner.list(prefix, options),
  };
  const content = new ContentStore(blobs);
  const pack = async (lines: string[]) => (await content.put('u', new TextEncoder().encode(`${lines.join('\n')}\n`))).hash;
  const old = await pack(['o0', 'o1', 'o2', 'o3']);
  const fresh = await pack(['n0', 'n1']);
  const item = (blob: string, part: number, id: string): ManifestItem => ({ type: 'chats', sourceId: id, blob, part, originalSize: 2, storedSize: 2, transforms: [], conversationId: 'c', at: '2026-01-01T00:00:00.000Z' });
  const items = [item(old, 0, 'o0'), item(fresh, 0, 'n0'), item(old, 1, 'o1'), item(fresh, 1, 'n1'), item(old, 2, 'o2'), item(old, 3, 'o3')];
  const manifest = await content.put('u', encodeManifest({ format: MANIFEST_FORMAT, snapshotId: 's', jobId: 'j', uid: 'u', deviceId: 'd', createdAt: 1, types: ['chats'], items: items.length }, items));
  const snapshot: Snapshot = {
    id: 's', uid: 'u', jobId: 'j', deviceId: 'd', parentId: null, types: ['chats'], createdAt: 1, manifestRef: manifest.hash,
    totals: { items: items.length, skippedItems: 0, chunks: 1, originalBytes: 0, storedBytes: 0 }, byType: {}, health: null,
  };
  reads.length = 0;
  const out: string[] = [];
  for await (const { bytes } of restoreItems(content, snapshot)) out.push(new TextDecoder().decode(bytes as Uint8Array));
  expect(out).toEqual(['o0', 'n0', 'o1', 'n1', 'o2', 'o3']);
  expect(reads.map((k) => k.split('/').pop()).sort()).toEqual([manifest.hash, old, fresh].sort());
});
