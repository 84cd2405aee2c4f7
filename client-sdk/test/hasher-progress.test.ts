/**
 * The hasher port and per-file progress: every hasher names chunks alike (the default pure-JS one,
 * node:crypto, a counting wrapper), a wrong one is refused at once, the client uses the one it is
 * given for preparing, uploading and restoring; and `onProgress` shows each media file while it is
 * hashed and while it goes up, with the bytes hashed overall. Against the embedded runtime.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { silentLogger } from '@lifeboat/engine/ports';
import { createToken } from '../../embedded/src/auth/tokens';
import { startEmbeddedRuntime, type EmbeddedRuntime } from '../../embedded/src/runtime';
import { nobleHasher, type BackupProgress, type Hasher } from '../src';
import { checkedHasher, sha256HexWith } from '../src/hasher';
import { createBackupClient, nodeHasher } from '../src/node';

const SECRET = 'hasher-progress';
const CONTACTS: Array<{ id: string; name: { display: string } }> = [{ id: 'c1', name: { display: 'C' } }];
const MIB = 1024 * 1024;
let dir: string;
let runtime: EmbeddedRuntime;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-hasher-'));
  runtime = await startEmbeddedRuntime({ dataDir: join(dir, 'data'), port: 0, logger: silentLogger, tokenSecret: SECRET, schedulerIntervalMs: 0, gcAfterBackup: false });
});

afterAll(async () => {
  await runtime.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A hasher that counts the bytes it is fed, over another. */
function counting(inner: Hasher): Hasher & { bytes: number } {
  const wrapper = {
    name: `counting ${inner.name}`,
    bytes: 0,
    sha256() {
      const hash = inner.sha256();
      return {
        update: (b: Uint8Array) => {
          wrapper.bytes += b.byteLength;
          hash.update(b);
        },
        digestHex: () => hash.digestHex(),
      };
    },
  };
  return wrapper;
}

describe('hashers', () => {
  it('give node:crypto\'s SHA-256 however the input is cut', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.array(fc.nat(), { maxLength: 6 }), (bytes, cuts) => {
        const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const pieces = [0, ...at].map((start, i) => bytes.subarray(start, [...at, bytes.length][i]));
        const expected = createHash('sha256').update(bytes).digest('hex');
        expect(sha256HexWith(nobleHasher, ...pieces)).toBe(expected);
        expect(sha256HexWith(nodeHasher(), ...pieces)).toBe(expected);
      }),
      { seed: 77, numRuns: 100 },
    );
  });

  it('refuses a hasher that is not a streaming SHA-256, at client creation', () => {
    const lastPieceOnly: Hasher = { name: 'last piece only', sha256: () => { let last = new Uint8Array(); return { update: (b) => { last = b.slice(); }, digestHex: () => createHash('sha256').update(last).digest('hex') }; } };
    const md5: Hasher = { name: 'md5', sha256: () => { const h = createHash('md5'); return { update: (b) => void h.update(b), digestHex: () => h.digest('hex') }; } };
    const throwing: Hasher = { name: 'throwing', sha256: () => { throw new Error('no native module'); } };
    for (const hasher of [lastPieceOnly, md5, throwing]) {
      expect(() => checkedHasher(hasher)).toThrow(expect.objectContaining({ code: 'backup/invalid-argument', message: expect.stringContaining(hasher.name) }));
      expect(() => createBackupClient({ baseUrl: runtime.url, getToken: () => 't', deviceId: 'd', hasher })).toThrow(expect.objectContaining({ code: 'backup/invalid-argument' }));
    }
    expect(checkedHasher(nobleHasher)).toBe(nobleHasher);
  });
});

describe('a backup with an injected hasher and per-file progress', () => {
  it('hashes with the client\'s hasher, shows each file hashed then uploaded, and restores checked by it', async () => {
    const files = [
      { sourceId: 'a/big.bin', name: 'big.bin', path: join(dir, 'big.bin'), bytes: randomBytes(3 * MIB + 12_345) },
      { sourceId: 'b/small.txt', name: 'small.txt', path: join(dir, 'small.txt'), bytes: Buffer.from('small file\n') },
    ];
    for (const f of files) writeFileSync(f.path, f.bytes);
    const hasher = counting(nodeHasher());
    const token = createToken(SECRET, { uid: 'hana' });
    const client = createBackupClient({ baseUrl: runtime.url, getToken: () => token, deviceId: 'hana-phone', hasher, uploadPieceSize: MIB });
    const events: BackupProgress[] = [];
    const started = await client.startBackup({
      types: ['media', 'contacts'],
      sources: { media: files.map(({ sourceId, name, path }) => ({ sourceId, name, path })), contacts: CONTACTS },
      onProgress: (p) => events.push(p),
    });
    const hashedBytes = hasher.bytes;
    // Every media byte was hashed by it (plus envelopes and the contacts chunk).
    expect(hashedBytes).toBeGreaterThan(files.reduce((n, f) => n + f.bytes.byteLength, 0));

    const hashing = events.filter((e) => e.phase === 'preparing' && e.currentItem?.step === 'hashing');
    const big = hashing.filter((e) => e.currentItem?.sourceId === 'a/big.bin').map((e) => e.currentItem?.bytesDone ?? -1);
    expect(big.length).toBeGreaterThanOrEqual(4);
    expect(big).toEqual([...big].sort((x, y) => x - y));
    expect(big.at(-1)).toBe(files[0]?.bytes.byteLength);
    expect(hashing.every((e) => e.currentItem?.bytes === files.find((f) => f.sourceId === e.currentItem?.sourceId)?.bytes.byteLength)).toBe(true);
    expect(hashing.map((e) => e.bytesHashed)).toEqual([...hashing.map((e) => e.bytesHashed)].sort((x, y) => x - y));
    expect(events.at(-1)).toMatchObject({ phase: 'committed', currentItem: null, bytesHashed: files.reduce((n, f) => n + f.bytes.byteLength, 0) });

    const uploading = events.filter((e) => e.currentItem?.step === 'uploading' && e.currentItem.sourceId === 'a/big.bin').map((e) => e.currentItem);
    expect(uploading.length).toBeGreaterThanOrEqual(3);
    expect(uploading.at(-1)?.bytesDone).toBe(uploading.at(-1)?.bytes);
    expect(uploading.at(-1)?.bytes).toBeGreaterThan(files[0]?.bytes.byteLength as number);

    // The same files through the default hasher make the same chunks: nothing goes up again.
    const plain = createBackupClient({ baseUrl: runtime.url, getToken: () => token, deviceId: 'hana-phone', hasher: nobleHasher });
    const job = await client.waitForJob(started.jobId, { intervalMs: 20 });
    const again = await plain.startBackup({ types: ['media', 'contacts'], sources: { media: files.map(({ sourceId, name, path }) => ({ sourceId, name, path })), contacts: CONTACTS } });
    expect(again.bytesUploaded).toBe(0);

    // Restore downloads are checked with the client's hasher too.
    const before = hasher.bytes;
    const restored = new Map<string, Buffer>();
    await client.restore({ snapshotId: job.snapshotId as string, types: ['media'], sink: { open: (item) => { const parts: Uint8Array[] = []; return { write: (b) => void parts.push(b.slice()), close: () => void restored.set(item.sourceId, Buffer.concat(parts)) }; } } });
    expect(restored.get('a/big.bin')?.equals(files[0]?.bytes as Buffer)).toBe(true);
    expect(hasher.bytes - before).toBeGreaterThanOrEqual(files[0]?.bytes.byteLength as number);
  });
});
