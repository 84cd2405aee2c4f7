import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAll } from '@lifeboat/engine/ports';
import { describeBlobStoreConformance } from '../../functions/test/conformance/blob-store-conformance';
import { FolderBlobStore } from '../src/adapters';

function tempRoot(): { root: string; remove: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'lifeboat-blobs-'));
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

describeBlobStoreConformance('FolderBlobStore', async () => {
  const { root, remove } = tempRoot();
  return { store: new FolderBlobStore(root), close: remove };
});

describe('FolderBlobStore on disk', () => {
  let root: string;
  let remove: () => void;

  beforeEach(() => {
    ({ root, remove } = tempRoot());
  });

  afterEach(() => remove());

  it('leaves no object and no partial file when the source stream fails mid-way', async () => {
    const store = new FolderBlobStore(root);
    const failure = new Error('device went away');
    async function* body(): AsyncIterable<Uint8Array> {
      yield new Uint8Array(100_000).fill(7);
      yield new Uint8Array(100_000).fill(8);
      throw failure;
    }
    await expect(store.put('uploads/u1/j1/c1', body())).rejects.toBe(failure);
    expect(existsSync(join(root, 'objects', 'uploads', 'u1', 'j1', 'c1'))).toBe(false);
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
    expect(await store.exists('uploads/u1/j1/c1')).toBe(false);
  });

  it('keeps objects and metadata across a reopen', async () => {
    await new FolderBlobStore(root).put('users/u1/blobs/ab/abc', text('kept'), { metadata: { sha256: 'abc' } });
    const reopened = new FolderBlobStore(root);
    expect(new TextDecoder().decode(await readAll(await reopened.get('users/u1/blobs/ab/abc')))).toBe('kept');
    expect(await reopened.stat('users/u1/blobs/ab/abc')).toMatchObject({ key: 'users/u1/blobs/ab/abc', size: 4, metadata: { sha256: 'abc' } });
  });

  it('stores an object as one file under objects/ and removes emptied folders on delete', async () => {
    const store = new FolderBlobStore(root);
    await store.put('a/b/c', text('x'), { metadata: { m: '1' } });
    expect(readdirSync(join(root, 'objects', 'a', 'b'))).toEqual(['c']);
    await store.delete('a/b/c');
    expect(readdirSync(join(root, 'objects'))).toEqual([]);
    await store.put('a/b/c', text('again'));
    expect(await store.exists('a/b/c')).toBe(true);
  });

  it('removes temp files older than an hour on construction and keeps fresh ones', () => {
    new FolderBlobStore(root);
    const stale = join(root, 'tmp', 'stale.tmp');
    const fresh = join(root, 'tmp', 'fresh.tmp');
    writeFileSync(stale, 'half a blob');
    writeFileSync(fresh, 'being written');
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    utimesSync(stale, twoHoursAgo, twoHoursAgo);
    new FolderBlobStore(root);
    expect(readdirSync(join(root, 'tmp'))).toEqual(['fresh.tmp']);
  });

  it('refuses a key that would need a file and a folder of the same name', async () => {
    const store = new FolderBlobStore(root);
    await store.put('a/b', text('file'));
    await expect(store.put('a/b/c', text('under a file'))).rejects.toMatchObject({ code: 'failed-precondition' });
    await expect(store.put('a', text('over a folder'))).rejects.toMatchObject({ code: 'failed-precondition' });
    await expect(store.put('a', text('over a folder'), { ifAbsent: true })).rejects.toMatchObject({ code: 'failed-precondition' });
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
    expect(await store.exists('a')).toBe(false);
  });

  it('rejects a read cancelled mid-way with cancelled', async () => {
    const store = new FolderBlobStore(root);
    await store.put('big', new Uint8Array(1024 * 1024));
    const controller = new AbortController();
    const source = await store.get('big', { signal: controller.signal });
    const read = (async () => {
      for await (const piece of source) {
        expect(piece.byteLength).toBeGreaterThan(0);
        controller.abort();
      }
    })();
    await expect(read).rejects.toMatchObject({ code: 'cancelled' });
  });
});
