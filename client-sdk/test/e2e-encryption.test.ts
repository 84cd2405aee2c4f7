/**
 * The SDK's end-to-end encryption on its own: convergent (same plaintext, same ciphertext),
 * bound to the chunk type, tamper-evident, and a wrong passphrase refused by the key check. Also
 * the SDK restore joining a large file's parts in offset order.
 */
import { sha256Hex } from '../src/sha256';
import { E2eKey, E2E_OVERHEAD_BYTES, newE2eParams, type E2eParams } from '../src/e2e-encryption';
import { restoreSnapshot, type RestoreItem } from '../src/restore';
import type { HttpPort } from '../src/http';

const text = (s: string) => new TextEncoder().encode(s);
let params: E2eParams;
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
    expect((await newE2eParams('tide pool lantern')).kdf.salt).not.toBe(params.kdf.salt);
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
