/**
 * GcsBlobStore's own logic over a hand-written fake bucket (fake-bucket.ts): the BlobStore
 * conformance suite, then what only this adapter does (tags, hashes, the 412 path, prefixes).
 * Against real Cloud Storage the same suite runs in gcs-emulator.test.ts when an emulator is up.
 */
import { Readable } from 'node:stream';
import { readAll } from '../../src/ports';
import { GcsBlobStore, LIFEBOAT_SHA256, LIFEBOAT_WRITTEN } from '../../src/adapters';
import { describeBlobStoreConformance } from '../conformance/blob-store-conformance';
import { apiError, FakeBucket } from './fake-bucket';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

async function* pieces(...parts: string[]): AsyncIterable<Uint8Array> {
  for (const part of parts) yield text(part);
}

describeBlobStoreConformance('GcsBlobStore over a fake bucket', async () => ({ store: new GcsBlobStore(new FakeBucket().asBucket()) }));
describeBlobStoreConformance('GcsBlobStore over a fake bucket, with a prefix', async () => {
  const bucket = new FakeBucket();
  // Objects outside the prefix must stay invisible to the store.
  bucket.commit('other/p/a', Buffer.from('x'), undefined, undefined);
  bucket.commit('lifeboat', Buffer.from('x'), undefined, undefined);
  return { store: new GcsBlobStore(bucket.asBucket(), { prefix: 'lifeboat/' }) };
});

describe('GcsBlobStore', () => {
  let bucket: FakeBucket;
  let store: GcsBlobStore;

  beforeEach(() => {
    bucket = new FakeBucket();
    store = new GcsBlobStore(bucket.asBucket(), { prefix: 'lb/' });
  });

  it('tags every object it writes and stores its SHA-256, hiding both from stat', async () => {
    await store.put('a/bytes', text('hello'), { metadata: { kind: 'k' } });
    await store.put('a/stream', pieces('hel', 'lo'));
    const sha = '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824';
    for (const name of ['lb/a/bytes', 'lb/a/stream']) {
      expect(bucket.objects.get(name)?.custom).toMatchObject({ [LIFEBOAT_WRITTEN]: 'true', [LIFEBOAT_SHA256]: sha });
    }
    expect((await store.stat('a/bytes'))?.metadata).toEqual({ kind: 'k' });
    expect((await store.stat('a/stream'))?.metadata).toEqual({});
  });

  it('fails a whole read with data-loss when the bytes do not match the stored hash; ranges are not checked', async () => {
    await store.put('c/x', text('original'));
    const object = bucket.objects.get('lb/c/x');
    if (!object) throw new Error('not stored');
    object.bytes = Buffer.from('tampered');
    await expect(readAll(await store.get('c/x'))).rejects.toMatchObject({ code: 'data-loss', retryable: false });
    expect(Buffer.from(await readAll(await store.get('c/x', { start: 1, end: 4 }))).toString()).toBe('amp');
  });

  it('checks the hash an upload session declared (a device that sent other bytes)', async () => {
    bucket.commit('lb/uploads/u/j/c', Buffer.from('not what was promised'), { metadata: { [LIFEBOAT_SHA256]: '0'.repeat(64) } }, undefined);
    await expect(readAll(await store.get('uploads/u/j/c'))).rejects.toMatchObject({ code: 'data-loss' });
  });

  it('treats 412 on a create-if-absent upload as success, reporting the existing size', async () => {
    // The object appears between the store's existence check and its upload: the race 412 settles.
    const realStat = store.stat.bind(store);
    let checks = 0;
    store.stat = async (key, options) => {
      checks += 1;
      if (checks === 1) {
        bucket.commit('lb/k', Buffer.from('winner!'), undefined, undefined);
        return null;
      }
      return realStat(key, options);
    };
    expect(await store.put('k', text('loser'), { ifAbsent: true })).toEqual({ created: false, size: 7 });
    expect(Buffer.from(await readAll(await store.get('k'))).toString()).toBe('winner!');
  });

  it('reads the generation whose metadata it saw, and fails transiently if that generation is replaced', async () => {
    await store.put('m', text('first version'));
    const body = await store.get('m');
    await store.put('m', text('second'));
    await expect(readAll(body)).rejects.toMatchObject({ code: 'aborted', retryable: true });
    expect(Buffer.from(await readAll(await store.get('m'))).toString()).toBe('second');
  });

  it('does not upload content that already exists on a create-if-absent put', async () => {
    await store.put('dedup', text('same'), { ifAbsent: true });
    bucket.calls.length = 0;
    const unread = Readable.from([Buffer.from('same')]);
    expect(await store.put('dedup', unread, { ifAbsent: true })).toEqual({ created: false, size: 4 });
    expect(bucket.calls.filter((call) => call.startsWith('save') || call.startsWith('createWriteStream'))).toEqual([]);
    expect(unread.destroyed).toBe(true);
  });

  it('uploads in single requests, so an interrupted upload leaves nothing', async () => {
    await store.put('s', pieces('a', 'b'));
    expect(bucket.calls).toContain('createWriteStream lb/s resumable=false');
  });

  it('refuses the reserved metadata names', async () => {
    await expect(store.put('x', text('x'), { metadata: { [LIFEBOAT_WRITTEN]: 'false' } })).rejects.toMatchObject({
      code: 'invalid-argument',
    });
    expect(bucket.objects.size).toBe(0);
  });

  it('maps service errors to coded errors with their retry class', async () => {
    bucket.find = () => {
      throw apiError(503, 'backend error');
    };
    await expect(store.stat('x')).rejects.toMatchObject({ code: 'unavailable', retryable: true });
  });

  it('lists past a page of results', async () => {
    const big = new FakeBucket();
    const keys = Array.from({ length: 1203 }, (_, i) => `k/${String(i).padStart(5, '0')}`);
    for (const key of keys) big.commit(key, Buffer.from('x'), undefined, undefined);
    const listed: string[] = [];
    for await (const info of new GcsBlobStore(big.asBucket()).list('k/')) listed.push(info.key);
    expect(listed).toEqual(keys);
    expect(big.calls.filter((call) => call.startsWith('getFiles'))).toHaveLength(2);
  });

  it('refuses a prefix that is not folders ending in /', () => {
    expect(() => new GcsBlobStore(bucket.asBucket(), { prefix: 'lb' })).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    expect(() => new GcsBlobStore(bucket.asBucket(), { prefix: '../x/' })).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
  });
});
