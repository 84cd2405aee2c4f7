/**
 * End-to-end encryption where the platform has no Web Crypto (React Native's Hermes): with
 * `globalThis.crypto.subtle` removed (only `getRandomValues` left, as react-native-get-random-values
 * provides), a whole backup of contacts, chats and a file runs through the embedded runtime and
 * restores equal to the original, on @noble/ciphers. Backups made either way restore the other
 * way, and the ciphertext is the same bytes: the same data backed up with Web Crypto uploads
 * nothing new.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackupClient, type RestoreItem, type RestoreSink } from '@lifeboat/client-sdk';
import { silentLogger } from '@lifeboat/engine/ports';
import { createToken } from '../src/auth/tokens';
import { startEmbeddedRuntime, type EmbeddedRuntime } from '../src/runtime';

const SECRET = 'no-webcrypto-secret';
let dir: string;
let runtime: EmbeddedRuntime;

const contacts = Array.from({ length: 30 }, (_, i) => ({ id: `c${String(i).padStart(3, '0')}`, name: { display: `Hermes Contact ${i}` }, phones: [{ number: `+44 20 7946 ${1000 + i}` }] }));
const messages = Array.from({ length: 60 }, (_, i) => ({
  id: `m${String(i).padStart(3, '0')}`,
  conversationId: `conv-${i % 3}`,
  senderId: i % 2 === 0 ? 'me' : 'them',
  text: `message ${i} without web crypto`,
  sentAt: new Date(Date.UTC(2026, 5, 1, 8, i)).toISOString(),
}));
// Larger than a few AES blocks and not a multiple of 16, so the pure-JS cipher does real work.
const fileBytes = Uint8Array.from({ length: 100_003 }, (_, i) => (i * 31 + (i >> 7)) % 256);
const media = [{ sourceId: 'Documents/field-notes.bin', name: 'field-notes.bin', mimeType: 'application/octet-stream', bytes: fileBytes }];

const client = (uid: string, deviceId: string, passphrase: string) =>
  createBackupClient({ baseUrl: runtime.url, getToken: () => createToken(SECRET, { uid }), deviceId, endToEnd: { passphrase } });

/** Runs `work` with `globalThis.crypto` as a platform without Web Crypto has it. */
async function withoutWebCrypto<T>(work: () => Promise<T>): Promise<T> {
  const original = Object.getOwnPropertyDescriptor(globalThis, 'crypto');
  Object.defineProperty(globalThis, 'crypto', {
    configurable: true,
    value: { getRandomValues: (array: Uint8Array) => webcrypto.getRandomValues(array) },
  });
  try {
    expect(globalThis.crypto.subtle).toBeUndefined();
    return await work();
  } finally {
    if (original) Object.defineProperty(globalThis, 'crypto', original);
  }
}

async function backUp(uid: string, deviceId: string, passphrase: string) {
  const c = client(uid, deviceId, passphrase);
  const started = await c.startBackup({ types: ['contacts', 'chats', 'media'], sources: { contacts, chats: messages, media } });
  const job = await c.waitForJob(started.jobId, { intervalMs: 20 });
  expect(job.status).toBe('completed');
  return { started, snapshotId: job.snapshotId as string };
}

/** Restores a snapshot and checks every item against the original data. */
async function restoresEqual(uid: string, passphrase: string, snapshotId: string): Promise<void> {
  const items: Array<{ item: RestoreItem; bytes: Buffer }> = [];
  const sink: RestoreSink = {
    open(item) {
      const parts: Buffer[] = [];
      return { write: (b) => void parts.push(Buffer.from(b)), close: () => void items.push({ item, bytes: Buffer.concat(parts) }) };
    },
  };
  const result = await client(uid, 'restorer', passphrase).restore({ snapshotId, sink });
  expect(result.failed).toEqual([]);
  expect(result.byType).toEqual({ contacts: contacts.length, chats: messages.length, media: 1 });
  const records = (type: string) => items.filter((i) => i.item.type === type).map((i) => JSON.parse(i.bytes.toString('utf8')) as { id: string }).sort((a, b) => a.id.localeCompare(b.id));
  expect(records('contacts')).toEqual(contacts);
  expect(records('chats')).toEqual(messages);
  expect(Buffer.from(items.find((i) => i.item.type === 'media')?.bytes ?? []).equals(Buffer.from(fileBytes))).toBe(true);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-no-webcrypto-'));
  runtime = await startEmbeddedRuntime({ dataDir: join(dir, 'data'), port: 0, logger: silentLogger, tokenSecret: SECRET, encryption: false, gcAfterBackup: false });
});

afterAll(async () => {
  await runtime.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('end-to-end encryption without Web Crypto', () => {
  it('backs up and restores a whole set; it restores with Web Crypto too, and the ciphertext is the same bytes', async () => {
    const { started, snapshotId } = await withoutWebCrypto(async () => {
      const made = await backUp('hermes', 'phone', 'salt marsh heron');
      await restoresEqual('hermes', 'salt marsh heron', made.snapshotId);
      return made;
    });
    expect(started.bytesUploaded).toBe(started.bytesTotal);
    // The other implementation opens it.
    await restoresEqual('hermes', 'salt marsh heron', snapshotId);
    // And seals the same data into the same chunks: a browser backing it up uploads nothing.
    const again = await backUp('hermes', 'browser', 'salt marsh heron');
    expect(again.started.bytesTotal).toBe(started.bytesTotal);
    expect(again.started.bytesUploaded).toBe(0);
  });

  it('restores without Web Crypto what was backed up and re-keyed with it', async () => {
    const { snapshotId } = await backUp('webby', 'laptop', 'tide table');
    await client('webby', 'laptop', 'tide table').changePassphrase('ebb and flow');
    await withoutWebCrypto(async () => {
      await restoresEqual('webby', 'ebb and flow', snapshotId);
      // A wrong passphrase is refused the same way.
      await expect(client('webby', 'phone', 'tide table').restore({ snapshotId, sink: { open: () => null } })).rejects.toMatchObject({ code: 'backup/wrong-passphrase' });
    });
  });
});
