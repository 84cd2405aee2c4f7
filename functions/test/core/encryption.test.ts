import { randomBytes } from 'node:crypto';
import { decodeBlob, encodeBlob, isEncryptedBlob } from '../../src/core/blob-codec';
import { ContentStore } from '../../src/core/content-store';
import { dataKeyLocation, masterKey, parseMasterKey, WrappedKeyRing } from '../../src/core/encryption/wrapped-key-ring';
import { blobKey } from '../../src/core/keys';
import { readAll } from '../../src/ports/blob-store';
import { MemoryBlobStore } from '../fakes/memory-blob-store';

const key = () => new Uint8Array(randomBytes(32));
const text = new TextEncoder().encode('alice@example.com called about the backup\n'.repeat(50));

describe('blob encryption (AES-256-GCM)', () => {
  it('round-trips compressed and encrypted, with no plaintext in the stored bytes', () => {
    const k = key();
    const stored = encodeBlob(text, { key: k });
    expect(isEncryptedBlob(stored)).toBe(true);
    expect(Buffer.from(stored).includes(Buffer.from('alice@example.com'))).toBe(false);
    expect(Buffer.from(decodeBlob(stored, { key: k })).equals(Buffer.from(text))).toBe(true);
    // Random nonces: the same plaintext never encrypts to the same bytes.
    expect(Buffer.from(encodeBlob(text, { key: k })).equals(Buffer.from(stored))).toBe(false);
  });

  it('refuses the wrong key, tampering (also of the header) and a missing key, each clearly', () => {
    const k = key();
    const stored = encodeBlob(text, { key: k });
    expect(() => decodeBlob(stored, { key: key() })).toThrow(expect.objectContaining({ code: 'data-loss', message: expect.stringMatching(/wrong data key or tampered/) }));
    const flipped = new Uint8Array(stored);
    flipped[20] = (flipped[20] ?? 0) ^ 1;
    expect(() => decodeBlob(flipped, { key: k })).toThrow(expect.objectContaining({ code: 'data-loss' }));
    const header = new Uint8Array(stored);
    header[4] = (header[4] ?? 0) ^ 0b1; // claim "not gzipped"
    expect(() => decodeBlob(header, { key: k })).toThrow(expect.objectContaining({ code: 'data-loss' }));
    expect(() => decodeBlob(stored)).toThrow(expect.objectContaining({ code: 'failed-precondition', message: expect.stringMatching(/encrypted/) }));
  });
});

describe('WrappedKeyRing', () => {
  const m1 = masterKey(key());
  const m2 = masterKey(key());

  it('gives each user one persistent data key, stored only wrapped', async () => {
    const blobs = new MemoryBlobStore();
    const a = new WrappedKeyRing(blobs, { current: m1 });
    const alice = await a.dataKey('alice');
    expect(alice.byteLength).toBe(32);
    expect(Buffer.from(await a.dataKey('bob')).equals(Buffer.from(alice))).toBe(false);
    // Another process (a new ring over the same store) gets the same key.
    expect(Buffer.from(await new WrappedKeyRing(blobs, { current: m1 }).dataKey('alice')).equals(Buffer.from(alice))).toBe(true);
    const doc = Buffer.from(await readAll(await blobs.get(dataKeyLocation('alice'))));
    expect(doc.includes(Buffer.from(alice))).toBe(false);
    expect(doc.includes(Buffer.from(Buffer.from(alice).toString('base64')))).toBe(false);
  });

  it('two processes creating a user’s key at once agree on one', async () => {
    const blobs = new MemoryBlobStore();
    const keys = await Promise.all(Array.from({ length: 8 }, () => new WrappedKeyRing(blobs, { current: m1 }).dataKey('carol')));
    expect(new Set(keys.map((k) => Buffer.from(k).toString('hex'))).size).toBe(1);
  });

  it('master-key rotation re-wraps data keys; blobs written before stay readable; the old key alone no longer works', async () => {
    const blobs = new MemoryBlobStore();
    const before = new ContentStore(blobs, new WrappedKeyRing(blobs, { current: m1 }));
    const put = await before.put('alice', text);
    const blobBytes = await readAll(await blobs.get(blobKey('alice', put.hash)));
    const rotating = new WrappedKeyRing(blobs, { current: m2, previous: [m1] });
    expect(await rotating.rewrapAll()).toBe(1);
    expect(await rotating.rewrapAll()).toBe(0);
    // No blob was rewritten.
    expect(Buffer.from(await readAll(await blobs.get(blobKey('alice', put.hash)))).equals(Buffer.from(blobBytes))).toBe(true);
    const after = new ContentStore(blobs, new WrappedKeyRing(blobs, { current: m2 }));
    expect(Buffer.from(await after.get('alice', put.hash)).equals(Buffer.from(text))).toBe(true);
    const stale = new ContentStore(blobs, new WrappedKeyRing(blobs, { current: m1 }));
    await expect(stale.get('alice', put.hash)).rejects.toMatchObject({ code: 'failed-precondition', message: expect.stringContaining(m2.id) });
  });

  it('a wrong master key fails with a clear error', async () => {
    const blobs = new MemoryBlobStore();
    const put = await new ContentStore(blobs, new WrappedKeyRing(blobs, { current: m1 })).put('alice', text);
    const impostor = masterKey(key());
    const forged = { ...impostor, id: m1.id }; // same id, other bytes
    await expect(new ContentStore(blobs, new WrappedKeyRing(blobs, { current: forged })).get('alice', put.hash)).rejects.toMatchObject({ code: 'data-loss', message: expect.stringMatching(/does not unwrap/) });
  });

  it('parses master keys as hex or base64 of 32 bytes only', () => {
    const raw = randomBytes(32);
    expect(parseMasterKey(raw.toString('hex')).id).toBe(parseMasterKey(raw.toString('base64')).id);
    expect(() => parseMasterKey('abcd')).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
  });
});
