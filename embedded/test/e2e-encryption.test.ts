/**
 * End-to-end encryption through the embedded runtime, with encryption at rest switched off so only
 * the device's encryption stands between the data and the disk: a backup of contacts, chats and a
 * file restores equal to the original; no plaintext is anywhere under the data folder; a wrong
 * passphrase is refused before anything moves; an unchanged second backup uploads nothing.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackupClient, type BackupClient, type RestoreItem, type RestoreSink } from '@lifeboat/client-sdk';
import { nodeFileSource } from '@lifeboat/client-sdk/node';
import { contentStoreOf, decodeBlob } from '@lifeboat/engine/core';
import { silentLogger } from '@lifeboat/engine/ports';
import { createToken } from '../src/auth/tokens';
import { restoreToFolder } from '../src/restore/folder-restore';
import { startEmbeddedRuntime, type EmbeddedRuntime } from '../src/runtime';

const SECRET = 'e2e-encryption-secret';
const PASSPHRASE = 'correct horse battery staple';
let dir: string;
let dataDir: string;
let runtime: EmbeddedRuntime;
let snapshotId: string;
let firstJobId: string;

// Markers that appear only in the user's data, so finding one on disk means plaintext leaked.
const contacts = Array.from({ length: 90 }, (_, i) => ({
  id: `contact-${String(i).padStart(3, '0')}`,
  name: `Quillfeather Zephyrine ${i}`,
  phones: [`+44 20 7946 ${String(1000 + i)}`],
  emails: [`zephyrine.${i}@example.org`],
}));
const messages = Array.from({ length: 240 }, (_, i) => ({
  id: `m${String(i).padStart(4, '0')}`,
  conversationId: `conv-${i % 4}`,
  senderId: i % 2 === 0 ? 'me' : 'them',
  text: `ultramarine whisper number ${i}`,
  sentAt: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
}));
const fileText = 'saffron ledger: the vault code is 4417\n';
const media = [{ sourceId: 'Documents/secret.txt', name: 'secret.txt', mimeType: 'text/plain', bytes: new TextEncoder().encode(fileText) }];
// Markers long enough that no timestamp or hash in the store's own bytes can contain them by chance.
const MARKERS = ['Quillfeather', 'Zephyrine', 'zephyrine.', 'ultramarine', 'whisper number', 'saffron ledger', 'vault code', 'secret.txt', '+44 20 7946'];

const client = (uid: string, passphrase: string | null, deviceId = 'phone') =>
  createBackupClient({
    baseUrl: runtime.url,
    getToken: () => createToken(SECRET, { uid }),
    deviceId,
    ...(passphrase === null ? {} : { endToEnd: { passphrase } }),
  });

function collectingSink(): { sink: RestoreSink; items: Array<{ item: RestoreItem; bytes: Buffer }> } {
  const items: Array<{ item: RestoreItem; bytes: Buffer }> = [];
  return {
    items,
    sink: {
      open(item) {
        const parts: Buffer[] = [];
        return { write: (b) => void parts.push(Buffer.from(b)), close: () => void items.push({ item, bytes: Buffer.concat(parts) }) };
      },
    },
  };
}

/**
 * Every file under `root`, read whole (SQLite database, WAL, blobs, uploads, settings). Blobs are
 * gzip-compressed by the server, so each file is also looked at as the blob codec decodes it
 * without a key: what anyone reading the disk could see.
 */
function filesUnder(root: string): Array<{ path: string; bytes: Buffer }> {
  const out: Array<{ path: string; bytes: Buffer }> = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) {
        walk(p);
        continue;
      }
      const bytes = readFileSync(p);
      let decoded = Buffer.alloc(0);
      try {
        // The folder store keeps its own object header in front of the blob (LBB2, or LBB1 before).
        const at = bytes.indexOf('LBB2') >= 0 ? bytes.indexOf('LBB2') : bytes.indexOf('LBB1');
        decoded = Buffer.from(decodeBlob(bytes.subarray(Math.max(0, at))));
      } catch {
        // Not a blob (the database, a settings file), or an encrypted one: its raw bytes are all there is.
      }
      out.push({ path: p, bytes: Buffer.concat([bytes, Buffer.from([0]), decoded]) });
    }
  };
  walk(root);
  return out;
}

async function backUp(c: BackupClient) {
  const started = await c.startBackup({ types: ['contacts', 'chats', 'media'], sources: { contacts, chats: messages, media } });
  const job = await c.waitForJob(started.jobId, { intervalMs: 20 });
  return { started, job };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-e2e-enc-'));
  dataDir = join(dir, 'data');
  runtime = await startEmbeddedRuntime({ dataDir, port: 0, logger: silentLogger, tokenSecret: SECRET, encryption: false, gcAfterBackup: false });
  const { started, job } = await backUp(client('ines', PASSPHRASE));
  expect(job.status).toBe('completed');
  expect(job.options.endToEnd).toBe(true);
  expect(started.bytesUploaded).toBe(started.bytesTotal);
  snapshotId = job.snapshotId as string;
  firstJobId = job.id;
});

afterAll(async () => {
  await runtime.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('end-to-end encryption', () => {
  it('restores contacts, chats and files equal to the original', async () => {
    const { sink, items } = collectingSink();
    const result = await client('ines', PASSPHRASE).restore({ snapshotId, sink });
    expect(result.byType).toEqual({ contacts: 90, chats: 240, media: 1 });
    const records = (type: string) => items.filter((i) => i.item.type === type).map((i) => JSON.parse(i.bytes.toString('utf8')) as { id: string });
    expect(records('contacts').sort((a, b) => a.id.localeCompare(b.id))).toEqual(contacts);
    expect(records('chats').sort((a, b) => a.id.localeCompare(b.id))).toEqual(messages);
    const file = items.find((i) => i.item.type === 'media');
    expect(file?.item.sourceId).toBe('Documents/secret.txt');
    expect(file?.bytes.toString('utf8')).toBe(fileText);
    expect(items.every((i) => i.item.transforms.includes('e2e-opaque'))).toBe(true);
  });

  it('filters by conversation, date and item on the device after decrypting', async () => {
    const c = client('ines', PASSPHRASE);
    const conv = collectingSink();
    const byConv = await c.restore({ snapshotId, sink: conv.sink, types: ['chats'], conversations: ['conv-1'] });
    expect(byConv.byType).toEqual({ chats: 60 });
    expect(conv.items.every((i) => i.item.conversationId === 'conv-1')).toBe(true);
    const ranged = collectingSink();
    const from = messages[10]?.sentAt as string;
    const to = messages[30]?.sentAt as string;
    expect((await c.restore({ snapshotId, sink: ranged.sink, types: ['chats'], from, to })).byType).toEqual({ chats: 20 });
    const picked = collectingSink();
    expect((await c.restore({ snapshotId, sink: picked.sink, itemIds: ['contact-007', 'Documents/secret.txt'] })).byType).toEqual({ contacts: 1, media: 1 });
  });

  it('leaves no plaintext anywhere under the data folder', async () => {
    // A control: another user backs up without end-to-end encryption (and the runtime has no
    // encryption at rest), so the same scan must find that user's plaintext.
    const plain = client('paul', null);
    const controlContacts = [{ id: 'c1', name: { display: 'Controlmarker Plainview' } }];
    const control = await plain.startBackup({ types: ['contacts'], sources: { contacts: controlContacts } });
    expect((await plain.waitForJob(control.jobId, { intervalMs: 20 })).status).toBe('completed');
    const files = filesUnder(dataDir);
    const haystack = files.map((f) => f.bytes.toString('latin1'));
    expect(haystack.some((h) => h.includes('Controlmarker Plainview'))).toBe(true);
    // The scan does read what the server stored: the job's id is in the job store.
    expect(haystack.some((h) => h.includes(firstJobId))).toBe(true);
    for (const marker of MARKERS) {
      const found = files.filter((f) => f.bytes.toString('latin1').includes(marker) || f.bytes.includes(Buffer.from(marker, 'utf16le'))).map((f) => f.path);
      expect({ marker, found }).toEqual({ marker, found: [] });
    }
  });

  it('refuses a wrong passphrase before any upload or restore, with a clear code', async () => {
    const wrong = client('ines', 'incorrect horse');
    const jobsBefore: string[] = [];
    for await (const job of wrong.listJobs()) jobsBefore.push(job.id);
    await expect(wrong.startBackup({ types: ['contacts'], sources: { contacts } })).rejects.toMatchObject({ code: 'backup/wrong-passphrase' });
    const jobsAfter: string[] = [];
    for await (const job of wrong.listJobs()) jobsAfter.push(job.id);
    expect(jobsAfter.sort()).toEqual(jobsBefore.sort());

    let opened = 0;
    const counting: RestoreSink = { open: () => ((opened += 1), null) };
    await expect(wrong.restore({ snapshotId, sink: counting })).rejects.toMatchObject({ code: 'backup/wrong-passphrase' });
    expect(opened).toBe(0);
    await expect(client('ines', null).restore({ snapshotId, sink: counting })).rejects.toMatchObject({ code: 'backup/passphrase-required' });
    expect(opened).toBe(0);
  });

  it('uploads 0 bytes for an unchanged second backup: convergent encryption keeps dedup', async () => {
    const { started, job } = await backUp(client('ines', PASSPHRASE, 'tablet'));
    expect(job.status).toBe('completed');
    expect(started.bytesUploaded).toBe(0);
    expect(started.bytesDeduplicated).toBe(started.bytesTotal);
    const { sink, items } = collectingSink();
    await client('ines', PASSPHRASE).restore({ snapshotId: job.snapshotId as string, sink, types: ['contacts'] });
    expect(items).toHaveLength(contacts.length);
  });

  it('changes the passphrase without re-encrypting: every snapshot restores with the new one, dedup holds', async () => {
    const old = 'first light';
    const { job: before } = await backUp(client('pia', old));
    expect(before.status).toBe('completed');
    const c = client('pia', old);
    await c.changePassphrase('second wind');
    // This client goes on with the new passphrase; a client with the old one is refused.
    await expect(client('pia', old).restore({ snapshotId: before.snapshotId as string, sink: collectingSink().sink })).rejects.toMatchObject({ code: 'backup/wrong-passphrase' });
    const { sink, items } = collectingSink();
    await client('pia', 'second wind').restore({ snapshotId: before.snapshotId as string, sink, types: ['contacts'] });
    expect(items.map((i) => JSON.parse(i.bytes.toString('utf8')) as { id: string }).sort((a, b) => a.id.localeCompare(b.id))).toEqual(contacts);
    // The key is the same, so the same data gives the same ciphertext: nothing to upload.
    const { started, job: after } = await backUp(c);
    expect(after.status).toBe('completed');
    expect(started.bytesUploaded).toBe(0);
    // Changed again, by the same client: the one before is refused from then on.
    await c.changePassphrase('third time');
    await expect(client('pia', 'second wind').changePassphrase('fourth')).rejects.toMatchObject({ code: 'backup/wrong-passphrase' });
    await expect(client('pia', null).changePassphrase('x')).rejects.toMatchObject({ code: 'backup/passphrase-required' });
    await expect(client('pia', 'third time').changePassphrase('')).rejects.toMatchObject({ code: 'backup/invalid-argument' });
  });

  it('verifies the stored ciphertext on the server', async () => {
    const report = await client('ines', PASSPHRASE).verifySnapshot(snapshotId);
    expect(report.ok).toBe(true);
    expect(report.checkedBlobs).toBeGreaterThan(0);
    expect(report.problems).toEqual([]);
  });

  it('two devices setting up at once agree on one salt', async () => {
    const [a, b] = await Promise.all([
      backUp(client('otto', 'shared secret', 'a')),
      backUp(client('otto', 'shared secret', 'b')),
    ]);
    expect(a.job.status).toBe('completed');
    expect(b.job.status).toBe('completed');
    // Had the second device's salt replaced the first's, one of the two snapshots would not
    // decrypt: both restore under the one stored salt, and their chunks are the same ciphertext.
    expect(b.started.bytesTotal).toBe(a.started.bytesTotal);
    for (const { job } of [a, b]) {
      const { sink, items } = collectingSink();
      await client('otto', 'shared secret', 'c').restore({ snapshotId: job.snapshotId as string, sink, types: ['contacts'] });
      expect(items).toHaveLength(contacts.length);
    }
  });

  it('streams a file in parts from disk, encrypted part by part, and joins it on restore', async () => {
    const path = join(dir, 'long.bin');
    const file = Buffer.from(Uint8Array.from({ length: 200_000 }, (_, i) => (i * 37 + (i >> 8)) % 256));
    writeFileSync(path, file);
    const c = createBackupClient({
      baseUrl: runtime.url,
      getToken: () => createToken(SECRET, { uid: 'vera' }),
      deviceId: 'laptop',
      endToEnd: { passphrase: 'parts and pieces' },
      fileSource: nodeFileSource(),
      maxMediaChunkBytes: 64 * 1024,
      mediaPartBytes: 64 * 1024,
    });
    const media = [{ sourceId: 'Movies/long.bin', name: 'long.bin', path }];
    const first = await c.startBackup({ types: ['media'], sources: { media } });
    expect(first.chunks).toBeGreaterThanOrEqual(4);
    expect((await c.waitForJob(first.jobId, { intervalMs: 20 })).status).toBe('completed');
    const again = await c.startBackup({ types: ['media'], sources: { media } });
    expect(again.bytesUploaded).toBe(0);
    const job = await c.waitForJob(again.jobId, { intervalMs: 20 });
    const { sink, items } = collectingSink();
    const result = await c.restore({ snapshotId: job.snapshotId as string, sink });
    expect(result.byType).toEqual({ media: 1 });
    expect(items).toHaveLength(1);
    expect(items[0]?.item.segment).toMatchObject({ index: 0, offset: 0, fileSize: file.byteLength });
    expect(items[0]?.bytes.equals(file)).toBe(true);
  });

  it('the CLI folder restore refuses an end-to-end snapshot with a clear code, writing nothing readable', async () => {
    const snapshot = await runtime.deps.store.getSnapshot(snapshotId);
    const out = mkdtempSync(join(tmpdir(), 'lifeboat-e2e-cli-'));
    try {
      await expect(restoreToFolder(contentStoreOf(runtime.deps), snapshot as NonNullable<typeof snapshot>, out)).rejects.toMatchObject({
        code: 'failed-precondition',
        message: expect.stringContaining('end-to-end encrypted'),
      });
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('refuses to combine endToEnd with incrementalOnly', async () => {
    await expect(
      client('ines', PASSPHRASE).startBackup({ types: ['chats'], options: { incrementalOnly: true }, sources: { chats: messages } }),
    ).rejects.toMatchObject({ code: 'backup/invalid-argument' });
  });
});
