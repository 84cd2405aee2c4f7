/**
 * The BlobStore contract as tests: every adapter (memory fake, folder, Cloud Storage when its
 * emulator is around) runs this same suite.
 */
import type { ErrorCode } from '../../src/core/errors';
import { readAll, type BlobInfo, type BlobStore } from '../../src/ports';

export interface BlobStoreHandle {
  store: BlobStore;
  close?: () => Promise<void> | void;
}

async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await expect(promise).rejects.toMatchObject({ name: 'LifeboatError', code });
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** Deterministic, non-repeating-looking bytes. */
function pattern(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i += 1) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Same bytes? Compared without jest's deep diff, which is slow on megabytes. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

async function* pieces(bytes: Uint8Array, sizes: readonly number[]): AsyncIterable<Uint8Array> {
  let offset = 0;
  let i = 0;
  while (offset < bytes.byteLength) {
    const size = sizes[i % sizes.length] ?? 1;
    i += 1;
    // A fresh copy per piece, as a network source would hand out.
    yield bytes.slice(offset, offset + size);
    offset += size;
    await Promise.resolve();
  }
}

async function getText(store: BlobStore, key: string, range: { start?: number; end?: number } = {}): Promise<string> {
  return str(await readAll(await store.get(key, range)));
}

async function listAll(store: BlobStore, prefix: string): Promise<BlobInfo[]> {
  const out: BlobInfo[] = [];
  for await (const info of store.list(prefix)) out.push(info);
  return out;
}

export function describeBlobStoreConformance(name: string, makeStore: () => Promise<BlobStoreHandle>): void {
  describe(`BlobStore conformance: ${name}`, () => {
    let store: BlobStore;
    let close: BlobStoreHandle['close'];

    beforeEach(async () => {
      const handle = await makeStore();
      store = handle.store;
      close = handle.close;
    });

    afterEach(async () => {
      await close?.();
    });

    it('round-trips a Uint8Array body byte for byte', async () => {
      const body = pattern(70_000);
      expect(await store.put('a/b.bin', body)).toEqual({ created: true, size: 70_000 });
      expect(sameBytes(await readAll(await store.get('a/b.bin')), body)).toBe(true);
    });

    it('round-trips an empty object', async () => {
      expect(await store.put('empty', new Uint8Array(0))).toEqual({ created: true, size: 0 });
      expect(await readAll(await store.get('empty'))).toHaveLength(0);
      expect(await store.stat('empty')).toMatchObject({ key: 'empty', size: 0, metadata: {} });
    });

    it('round-trips a 5 MB streamed body sent in many pieces', async () => {
      const body = pattern(5 * 1024 * 1024 + 17, 7);
      const result = await store.put('big/one', pieces(body, [65_536, 1, 100_003, 4096]));
      expect(result).toEqual({ created: true, size: body.byteLength });
      expect(sameBytes(await readAll(await store.get('big/one')), body)).toBe(true);
      const tail = await readAll(await store.get('big/one', { start: body.byteLength - 1000 }));
      expect(sameBytes(tail, body.subarray(body.byteLength - 1000))).toBe(true);
    });

    it('reads a byte range', async () => {
      await store.put('r', text('0123456789'));
      expect(await getText(store, 'r', { start: 2, end: 5 })).toBe('234');
      expect(await getText(store, 'r', { start: 7 })).toBe('789');
      expect(await getText(store, 'r', { end: 3 })).toBe('012');
      expect(await getText(store, 'r', { start: 4, end: 4 })).toBe('');
      expect(await getText(store, 'r', { start: 0, end: 10 })).toBe('0123456789');
    });

    it('rejects get of a missing key with not-found', async () => {
      await expectCode(store.get('missing/key'), 'not-found');
    });

    it('replaces an object on a plain put', async () => {
      await store.put('k', text('one'), { metadata: { v: '1' } });
      expect(await store.put('k', text('second'), { metadata: { v: '2' } })).toEqual({ created: true, size: 6 });
      expect(await getText(store, 'k')).toBe('second');
      expect(await store.stat('k')).toMatchObject({ key: 'k', size: 6, metadata: { v: '2' } });
    });

    it('leaves an existing object alone on an ifAbsent put', async () => {
      await store.put('k', text('original'), { metadata: { who: 'first' } });
      const again = await store.put('k', text('other bytes!'), { ifAbsent: true, metadata: { who: 'second' } });
      expect(again).toEqual({ created: false, size: 8 });
      expect(await getText(store, 'k')).toBe('original');
      expect(await store.stat('k')).toMatchObject({ key: 'k', size: 8, metadata: { who: 'first' } });
    });

    it('creates exactly one object when ifAbsent puts of one key race', async () => {
      const bodies = Array.from({ length: 10 }, (_, i) => pattern(20_000 + i, i + 1));
      const results = await Promise.all(
        bodies.map((body, i) => store.put('race/k', pieces(body, [3000 + i]), { ifAbsent: true })),
      );
      const winners = results.flatMap((r, i) => (r.created ? [i] : []));
      expect(winners).toHaveLength(1);
      const winner = bodies[winners[0] ?? -1];
      if (!winner) throw new Error('no winner');
      expect(sameBytes(await readAll(await store.get('race/k')), winner)).toBe(true);
      for (const r of results) expect(r.size).toBe(winner.byteLength);
    });

    it('stats size and metadata, null when missing; exists agrees', async () => {
      await store.put('s/x', text('hello'), { metadata: { sha256: 'ab', 'content-type': 'text/plain' } });
      expect(await store.stat('s/x')).toMatchObject({ key: 's/x', size: 5, metadata: { sha256: 'ab', 'content-type': 'text/plain' } });
      expect(await store.stat('s/y')).toBeNull();
      expect(await store.stat('s')).toBeNull();
      expect(await store.exists('s/x')).toBe(true);
      expect(await store.exists('s/y')).toBe(false);
      expect(await store.exists('s')).toBe(false);
    });

    it('reports when an object was written, the same in stat and list (garbage collection reads it)', async () => {
      const before = Date.now() - 2_000;
      await store.put('t/x', text('when'));
      const info = await store.stat('t/x');
      expect(info?.createdAt).toEqual(expect.any(Number));
      expect(info?.createdAt).toBeGreaterThanOrEqual(before);
      expect((await listAll(store, 't/'))[0]?.createdAt).toBe(info?.createdAt);
      await store.put('t/x', text('again'), { ifAbsent: true });
      expect((await store.stat('t/x'))?.createdAt).toBe(info?.createdAt);
    });

    it('deletes idempotently', async () => {
      await store.put('d/x', text('bye'));
      await store.delete('d/x');
      await store.delete('d/x');
      await store.delete('never/was');
      expect(await store.exists('d/x')).toBe(false);
      await expectCode(store.get('d/x'), 'not-found');
      expect(await listAll(store, '')).toEqual([]);
    });

    it('lists keys under a prefix in lexicographic order with sizes, nothing outside it', async () => {
      const keys = ['p/b/c', 'p/b-x', 'p/b.txt', 'p/B', 'p/a', 'p/a0/z', 'pq/x', 'other/p/a', 'p0'];
      for (const [i, key] of keys.entries()) await store.put(key, pattern(i + 1), { metadata: { i: String(i) } });

      const underP = await listAll(store, 'p/');
      expect(underP.map((b) => b.key)).toEqual(['p/B', 'p/a', 'p/a0/z', 'p/b-x', 'p/b.txt', 'p/b/c']);
      expect(underP[0]).toMatchObject({ key: 'p/B', size: 4, metadata: { i: '3' } });

      expect((await listAll(store, 'p')).map((b) => b.key)).toEqual([
        'p/B', 'p/a', 'p/a0/z', 'p/b-x', 'p/b.txt', 'p/b/c', 'p0', 'pq/x',
      ]);
      expect((await listAll(store, 'p/b')).map((b) => b.key)).toEqual(['p/b-x', 'p/b.txt', 'p/b/c']);
      expect((await listAll(store, 'p/b/')).map((b) => b.key)).toEqual(['p/b/c']);
      expect(await listAll(store, 'nothing/')).toEqual([]);
      const everything = (await listAll(store, '')).map((b) => b.key);
      expect(everything).toEqual([...keys].sort());
    });

    it('refuses invalid keys with invalid-argument', async () => {
      for (const key of ['../x', '', 'a//b', '/a', 'a b', 'a/', 'a/../b', '.', 'a/./b', 'ü']) {
        await expectCode(store.put(key, text('x')), 'invalid-argument');
        await expectCode(store.get(key), 'invalid-argument');
        await expectCode(store.stat(key), 'invalid-argument');
        await expectCode(store.delete(key), 'invalid-argument');
      }
      expect(await listAll(store, '')).toEqual([]);
    });

    it('rejects a put with an aborted signal as cancelled and stores nothing', async () => {
      const controller = new AbortController();
      controller.abort();
      await expectCode(store.put('c/x', text('never'), { signal: controller.signal }), 'cancelled');
      await expectCode(store.put('c/y', pieces(pattern(10_000), [100]), { signal: controller.signal }), 'cancelled');
      expect(await store.exists('c/x')).toBe(false);
      expect(await listAll(store, '')).toEqual([]);
    });

    it('rejects a put aborted mid-stream as cancelled and stores nothing', async () => {
      const controller = new AbortController();
      async function* body(): AsyncIterable<Uint8Array> {
        yield pattern(1000);
        controller.abort();
        yield pattern(1000, 2);
      }
      await expectCode(store.put('c/z', body(), { signal: controller.signal }), 'cancelled');
      expect(await listAll(store, '')).toEqual([]);
    });

    it('stores nothing when the body stream fails', async () => {
      const failure = new Error('source broke');
      async function* body(): AsyncIterable<Uint8Array> {
        yield pattern(50_000);
        throw failure;
      }
      await expect(store.put('f/x', body())).rejects.toBe(failure);
      expect(await store.exists('f/x')).toBe(false);
      expect(await listAll(store, '')).toEqual([]);
    });
  });
}
