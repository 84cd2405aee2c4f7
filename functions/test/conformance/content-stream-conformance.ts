/**
 * `ContentStore` streaming over a real blob store: the same suite runs over the memory fake, the
 * folder store (embedded) and the Cloud Storage adapter over its fake bucket. Round trips of
 * streamed puts and gets with and without encryption, old blobs, refused content that leaves
 * nothing stored, and what a reader sees of a corrupt blob.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ContentStore } from '../../src/core/content-store';
import { masterKey, WrappedKeyRing } from '../../src/core/encryption/wrapped-key-ring';
import { blobKey } from '../../src/core/keys';
import { readAll, type BlobStore } from '../../src/ports';
import { encodeLegacyBlob } from '../fakes/legacy-blob';

export interface ContentStreamHandle {
  store: BlobStore;
  /** Replaces an object's bytes behind the store's back (to simulate corruption at rest). */
  overwrite(key: string, bytes: Uint8Array): Promise<void>;
  close?: () => Promise<void> | void;
}

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function* inPieces(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += size) yield bytes.subarray(at, at + size);
}

/** Reads a stream to its end; resolves with what came and how it ended. */
async function drain(stream: AsyncIterable<Uint8Array>): Promise<{ bytes: number; hash: string; error: unknown }> {
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for await (const piece of stream) {
      hash.update(piece);
      bytes += piece.byteLength;
    }
    return { bytes, hash: hash.digest('hex'), error: null };
  } catch (error) {
    return { bytes, hash: '', error };
  }
}

export function describeContentStreaming(name: string, open: () => Promise<ContentStreamHandle>): void {
  describe(`ContentStore streaming over ${name}`, () => {
    let handle: ContentStreamHandle;
    beforeEach(async () => {
      handle = await open();
    });
    afterEach(async () => {
      await handle.close?.();
    });

    const ring = () => new WrappedKeyRing(handle.store, { current: masterKey(new Uint8Array(32).fill(7)) });

    it.each([
      ['encrypted', true],
      ['in the clear', false],
    ])('streams a 3 MB blob in and out, %s, and reports its size from the header', async (_label, encrypted) => {
      const content = new ContentStore(handle.store, encrypted ? ring() : undefined);
      const plaintext = new Uint8Array(randomBytes(3_000_000));
      const put = await content.putStream('alice', inPieces(plaintext, 100_000), { sha256: sha(plaintext), size: plaintext.byteLength, compress: false });
      expect(put).toMatchObject({ hash: sha(plaintext), size: plaintext.byteLength, created: true });
      const stream = await content.getStream('alice', put.hash);
      expect(stream.size).toBe(plaintext.byteLength);
      expect(await drain(stream)).toEqual({ bytes: plaintext.byteLength, hash: put.hash, error: null });
      // The whole-buffer get reads the same blob.
      expect(sha(await content.get('alice', put.hash))).toBe(put.hash);
      // Stored again: nothing written, the source left unread.
      let pulled = 0;
      async function* counted(): AsyncGenerator<Uint8Array> {
        pulled += 1;
        yield plaintext;
      }
      expect(await content.putStream('alice', counted(), { sha256: put.hash, size: plaintext.byteLength })).toMatchObject({ created: false, storedSize: put.storedSize });
      expect(pulled).toBe(0);
    });

    it('gzips a streamed put of text, and reads it back', async () => {
      const content = new ContentStore(handle.store, ring());
      const text = new TextEncoder().encode('{"sentAt":"2026-01-01T00:00:00Z","text":"hello"}\n'.repeat(40_000));
      const put = await content.putStream('alice', inPieces(text, 65_536), { sha256: sha(text), size: text.byteLength });
      expect(put.storedSize).toBeLessThan(text.byteLength / 10);
      expect(await drain(await content.getStream('alice', put.hash))).toMatchObject({ bytes: text.byteLength, hash: put.hash, error: null });
    });

    it.each([
      ['in memory, put as one buffer', 500_000],
      ['streamed into the store', 1_500_000],
    ])('refuses content that is not what its name and size say, and stores nothing (%s)', async (_label, length) => {
      const content = new ContentStore(handle.store, ring());
      const plaintext = new Uint8Array(randomBytes(length));
      const wrongName = sha(new Uint8Array([1]));
      await expect(content.putStream('alice', inPieces(plaintext, 64_000), { sha256: wrongName, size: plaintext.byteLength, compress: false })).rejects.toMatchObject({ code: 'data-loss' });
      expect(await handle.store.exists(blobKey('alice', wrongName))).toBe(false);
      for (const size of [plaintext.byteLength - 1, plaintext.byteLength + 1]) {
        await expect(content.putStream('alice', inPieces(plaintext, 64_000), { sha256: sha(plaintext), size, compress: false })).rejects.toMatchObject({ code: 'data-loss' });
        expect(await handle.store.exists(blobKey('alice', sha(plaintext)))).toBe(false);
      }
      // A source that fails part way leaves nothing either.
      async function* broken(): AsyncGenerator<Uint8Array> {
        yield plaintext.subarray(0, length - 100_000);
        throw new Error('device went away');
      }
      await expect(content.putStream('alice', broken(), { sha256: sha(plaintext), size: plaintext.byteLength, compress: false })).rejects.toThrow('device went away');
      expect(await handle.store.exists(blobKey('alice', sha(plaintext)))).toBe(false);
      await expect(content.putStream('alice', inPieces(plaintext, 1), { sha256: 'not-a-hash', size: 1 })).rejects.toMatchObject({ code: 'invalid-argument' });
    });

    it('still reads blobs written in the old format (LBB1), whole and streamed', async () => {
      const keyRing = ring();
      const content = new ContentStore(handle.store, keyRing);
      const text = new TextEncoder().encode('a contact from an old backup\n'.repeat(10_000));
      const noise = new Uint8Array(randomBytes(300_000));
      await handle.store.put(blobKey('alice', sha(text)), encodeLegacyBlob(text, { key: await keyRing.dataKey('alice') }), { ifAbsent: true });
      await handle.store.put(blobKey('alice', sha(noise)), encodeLegacyBlob(noise), { ifAbsent: true });
      for (const bytes of [text, noise]) {
        expect(sha(await content.get('alice', sha(bytes)))).toBe(sha(bytes));
        const stream = await content.getStream('alice', sha(bytes));
        expect(stream.size).toBeNull();
        expect(await drain(stream)).toEqual({ bytes: bytes.byteLength, hash: sha(bytes), error: null });
      }
    });

    it('ends a corrupt blob with data-loss, never successfully, holding its last piece back', async () => {
      // In the clear, nothing but the name's hash can tell: flip a byte in the middle.
      const content = new ContentStore(handle.store);
      const plaintext = new Uint8Array(randomBytes(1_000_000));
      const put = await content.putStream('alice', inPieces(plaintext, 100_000), { sha256: sha(plaintext), size: plaintext.byteLength, compress: false });
      const key = blobKey('alice', put.hash);
      const stored = await readAll(await handle.store.get(key));
      const flipped = new Uint8Array(stored);
      flipped[500_000] = (flipped[500_000] ?? 0) ^ 1;
      await handle.overwrite(key, flipped);
      const result = await drain(await content.getStream('alice', put.hash));
      expect(result.error).toMatchObject({ code: 'data-loss' });
      expect(result.bytes).toBeLessThan(plaintext.byteLength);
      await expect(content.get('alice', put.hash)).rejects.toMatchObject({ code: 'data-loss' });
      // Encrypted: the segment with the flipped byte fails its tag before any of it is released.
      const sealed = new ContentStore(handle.store, ring());
      const other = new Uint8Array(randomBytes(1_000_000));
      const enc = await sealed.putStream('alice', inPieces(other, 100_000), { sha256: sha(other), size: other.byteLength, compress: false });
      const encKey = blobKey('alice', enc.hash);
      const encStored = new Uint8Array(await readAll(await handle.store.get(encKey)));
      encStored[700_000] = (encStored[700_000] ?? 0) ^ 1;
      await handle.overwrite(encKey, encStored);
      const encResult = await drain(await sealed.getStream('alice', enc.hash));
      expect(encResult.error).toMatchObject({ code: 'data-loss' });
      expect(encResult.bytes).toBeLessThan(700_000);
    });

    it('answers not-found for a missing blob, and lets go of a stream it will not read', async () => {
      const content = new ContentStore(handle.store);
      await expect(content.getStream('alice', 'a'.repeat(64))).rejects.toMatchObject({ code: 'not-found' });
      const plaintext = new Uint8Array(randomBytes(200_000));
      const put = await content.put('alice', plaintext, { compress: false });
      const stream = await content.getStream('alice', put.hash);
      expect(stream.size).toBe(plaintext.byteLength);
      await stream.close();
    });
  });
}
