/**
 * RoutedBlobStore: raw uploads in a bucket of their own under one key space. It passes the
 * BlobStore contract whichever side of the route the contract's keys fall on (the contract lists
 * `p`, which spans both stores when `p/` is routed), and each key lands in the store it routes to.
 */
import { RoutedBlobStore } from '../../src/adapters/routed-blob-store';
import { readAll, type BlobStore } from '../../src/ports';
import { describeBlobStoreConformance } from '../conformance/blob-store-conformance';
import { MemoryBlobStore } from '../fakes/memory-blob-store';

describeBlobStoreConformance('RoutedBlobStore (p/ routed)', async () => ({ store: new RoutedBlobStore(new MemoryBlobStore(), 'p/', new MemoryBlobStore()) }));
describeBlobStoreConformance('RoutedBlobStore (uploads/ routed)', async () => ({ store: new RoutedBlobStore(new MemoryBlobStore(), 'uploads/', new MemoryBlobStore()) }));

async function keys(store: BlobStore, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const info of store.list(prefix)) out.push(info.key);
  return out;
}

describe('RoutedBlobStore', () => {
  it('keeps uploads in the routed store and everything else in the main one', async () => {
    const main = new MemoryBlobStore();
    const uploads = new MemoryBlobStore();
    const store = new RoutedBlobStore(main, 'uploads/', uploads);
    await store.put('uploads/alice/job1/aa', new Uint8Array([1]));
    await store.put('users/alice/blobs/bb', new Uint8Array([2]));
    await store.put('keys/alice', new Uint8Array([3]));
    expect(await keys(uploads, '')).toEqual(['uploads/alice/job1/aa']);
    expect(await keys(main, '')).toEqual(['keys/alice', 'users/alice/blobs/bb']);
    expect(Buffer.from(await readAll(await store.get('uploads/alice/job1/aa')))).toEqual(Buffer.from([1]));
    expect(await store.stat('uploads/alice/job1/aa')).toMatchObject({ size: 1 });
    expect(await main.exists('uploads/alice/job1/aa')).toBe(false);
    await store.delete('uploads/alice/job1/aa');
    expect(await keys(store, 'u')).toEqual(['users/alice/blobs/bb']);
  });

  it('lists a folder once when both routes are the same bucket', async () => {
    const one = new MemoryBlobStore();
    const store = new RoutedBlobStore(one, 'uploads/', one);
    await store.put('uploads/a', new Uint8Array([1]));
    await store.put('users/b', new Uint8Array([2]));
    expect(await keys(store, '')).toEqual(['uploads/a', 'users/b']);
  });

  it('refuses a route that is not one folder', () => {
    for (const prefix of ['', 'uploads', 'a/b/', '../']) {
      expect(() => new RoutedBlobStore(new MemoryBlobStore(), prefix, new MemoryBlobStore())).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    }
  });
});
