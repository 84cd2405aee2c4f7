/**
 * The SDK's end-to-end encryption on its own: convergent (same plaintext, same ciphertext),
 * bound to the chunk type, tamper-evident, and a wrong passphrase refused by the key check. Also
 * the SDK restore joining a large file's parts in offset order.
 */
import { hmac } from '@noble/hashes/hmac';
import { scryptAsync } from '@noble/hashes/scrypt';
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex } from '@noble/hashes/utils';
import { sha256Hex } from '../src/sha256';
import { E2eKey, E2E_OVERHEAD_BYTES, newE2eParams, type E2eParams, type WrappedE2eParams } from '../src/e2e-encryption';
import { restoreSnapshot, type RestoreItem } from '../src/restore';
import type { HttpPort } from '../src/http';

const text = (s: string) => new TextEncoder().encode(s);
let params: WrappedE2eParams;
let key: E2eKey;

beforeAll(async () => {
  params = await newE2eParams('tide pool lantern');
  key = await E2eKey.derive('tide pool lantern', params);
});

describe('end-to-end chunk encryption', () => {
  it('stores scrypt N=2^15 r=8 p=1 with a random 16-byte salt and a key check', async () => {
    expect(params.kdf).toMatchObject({ name: 'scrypt', N: 32768, r: 8, p: 1 });
    expect(params.kdf.salt).toMatch(/^[0-9a-f]{32}$/);
    expect(params.keyCheck).toMatch(/^[0-9a-f]{64}$/);
    // New users get a random key wrapped under the passphrase (version 2).
    expect(params).toMatchObject({ version: 2, wrappedKey: expect.stringMatching(/^[0-9a-f]{120}$/) });
    expect((await newE2eParams('tide pool lantern')).kdf.salt).not.toBe(params.kdf.salt);
  });

  it('re-wraps the same key under a new passphrase; the old one is refused', async () => {
    const sealed = await key.encrypt('contacts', text('{"id":"c9"}\n'));
    const next = await key.wrapFor('harbour bell');
    expect(next.kdf.salt).not.toBe(params.kdf.salt);
    expect(next.wrappedKey).not.toBe(params.wrappedKey);
    const again = await E2eKey.derive('harbour bell', next);
    // The same key: the same ciphertext for the same plaintext (dedup holds), and old chunks open.
    expect(sha256Hex(await again.encrypt('contacts', text('{"id":"c9"}\n')))).toBe(sha256Hex(sealed));
    expect(new TextDecoder().decode(await again.decrypt('contacts', sealed))).toBe('{"id":"c9"}\n');
    await expect(E2eKey.derive('tide pool lantern', next)).rejects.toMatchObject({ code: 'backup/wrong-passphrase' });
    // A damaged wrapped key is data loss, named as such, not a wrong passphrase.
    const damaged = { ...next, wrappedKey: `${next.wrappedKey.slice(0, -2)}${next.wrappedKey.endsWith('00') ? '01' : '00'}` };
    await expect(E2eKey.derive('harbour bell', damaged)).rejects.toMatchObject({ code: 'backup/data-loss' });
  });

  it('carries a version 1 key (the passphrase\'s own) into version 2 unchanged', async () => {
    // Version 1, as devices set users up before wrapped keys: the scrypt output is the key.
    const kdf = { name: 'scrypt' as const, N: 2 ** 14, r: 8, p: 1, salt: '5a'.repeat(16) };
    const derived = await scryptAsync(text('old tide'), Buffer.from(kdf.salt, 'hex'), { N: kdf.N, r: 8, p: 1, dkLen: 32 });
    const v1: E2eParams = { version: 1, kdf, keyCheck: bytesToHex(hmac(sha256, derived, text('lifeboat-e2e/1 key-check'))) };
    const old = await E2eKey.derive('old tide', v1);
    const sealed = await old.encrypt('chats', text('{"id":"m1"}\n'));
    const v2 = await old.wrapFor('new tide');
    expect(v2.version).toBe(2);
    expect(new TextDecoder().decode(await (await E2eKey.derive('new tide', v2)).decrypt('chats', sealed))).toBe('{"id":"m1"}\n');
  });

  it('is convergent: equal plaintexts give equal ciphertexts, different ones differ', async () => {
    const plain = text('{"id":"c1","name":"Ada"}\n');
    const a = await key.encrypt('contacts', plain);
    const b = await key.encrypt('contacts', text('{"id":"c1","name":"Ada"}\n'));
    const c = await key.encrypt('contacts', text('{"id":"c1","name":"Adb"}\n'));
    expect(sha256Hex(a)).toBe(sha256Hex(b));
    expect(sha256Hex(a)).not.toBe(sha256Hex(c));
    expect(a.byteLength).toBe(plain.byteLength + E2E_OVERHEAD_BYTES);
    expect(Buffer.from(a).includes(Buffer.from('Ada'))).toBe(false);
    expect(new TextDecoder().decode(await key.decrypt('contacts', a))).toBe('{"id":"c1","name":"Ada"}\n');
  });

  it('refuses a wrong passphrase, another type, a flipped bit and another salt', async () => {
    await expect(E2eKey.derive('tide pool lanterns', params)).rejects.toMatchObject({ code: 'backup/wrong-passphrase' });
    const sealed = await key.encrypt('chats', text('hello'));
    await expect(key.decrypt('contacts', sealed)).rejects.toMatchObject({ code: 'backup/data-loss' });
    const flipped = sealed.slice();
    flipped[flipped.byteLength - 1] = (flipped[flipped.byteLength - 1] ?? 0) ^ 1;
    await expect(key.decrypt('chats', flipped)).rejects.toMatchObject({ code: 'backup/data-loss' });
    const other = await E2eKey.derive('tide pool lantern', await newE2eParams('tide pool lantern'));
    await expect(other.decrypt('chats', sealed)).rejects.toMatchObject({ code: 'backup/data-loss' });
  });
});

describe('SDK restore of a file stored in parts', () => {
  it('writes the parts in offset order whatever order the plan lists them in', async () => {
    const file = Uint8Array.from({ length: 300 }, (_, i) => (i * 13) % 256);
    const blobs = new Map<string, Uint8Array>();
    const part = (index: number): RestoreItem => {
      const bytes = file.subarray(index * 100, index * 100 + 100);
      const hash = sha256Hex(bytes);
      blobs.set(hash, bytes);
      return { type: 'media', sourceId: 'Movies/long.mov', blob: hash, segment: { index, offset: index * 100, fileSize: 300 }, originalSize: 100, storedSize: 100, transforms: [] };
    };
    const items = [part(2), part(0), part(1)];
    const downloads = Object.fromEntries([...blobs.keys()].map((h) => [h, { url: `https://blobs.test/${h}`, size: 100 }]));
    const http: HttpPort = {
      request: async (req) => ({ status: 200, headers: {}, body: blobs.get(req.url.split('/').pop() ?? '') ?? new Uint8Array() }),
    };
    const call = async <T>(name: string): Promise<T> => {
      expect(name).toBe('getRestorePlan');
      return { snapshotId: 's', items, downloads, expiresAt: 0, totalItems: 3, totalBlobs: 3, nextPageToken: null } as T;
    };
    const written: Buffer[] = [];
    let opened = 0;
    const result = await restoreSnapshot({ call, http }, {
      snapshotId: 's',
      sink: { open: () => ((opened += 1), { write: (b) => void written.push(Buffer.from(b)), close: () => undefined }) },
    });
    expect(opened).toBe(1);
    expect(result.byType).toEqual({ media: 1 });
    expect(Buffer.concat(written).equals(Buffer.from(file))).toBe(true);
  });
});
