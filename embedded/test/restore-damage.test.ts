/**
 * Folder restore that keeps going (issue 14 item 2) and safe restore names (issue 16 items 2, 3):
 * a snapshot with one corrupt blob restores every other item byte for byte and reports the one;
 * ids longer than a file name allows, or that look like another id's encoding, each get a file of
 * their own; nothing is merged and nothing stops the restore.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { blobKey, contentStoreOf, restoreItems, verifySnapshot, type Snapshot } from '@lifeboat/functions/core';
import { demoContacts, demoDeviceInfo } from '../src/demo-data';
import { restoreToFolder, type FolderRestoreSummary } from '../src/restore/folder-restore';
import { useTestRuntime } from './helpers/test-runtime';

const t = useTestRuntime('restore-damage');
const UID = 'dana';
const longMedia = `Camera/${'very-long-folder-name/'.repeat(45)}IMG_0001.jpg`; // ~1000 bytes, under the schema's 1024
const longConversation = `group:${'ä'.repeat(240)}`; // 246 characters, 486 bytes
const media = [
  { sourceId: 'Audio/memo.bin', name: 'memo.bin', mimeType: 'application/octet-stream', bytes: Uint8Array.from({ length: 3000 }, (_, i) => (i * 31) % 251) },
  // Plain, and exactly the earlier scheme's encoding of 'Audio/memo.bin': it used to share its file.
  { sourceId: `id-${Buffer.from('Audio/memo.bin').toString('base64url')}`, name: 'b.bin', mimeType: 'application/octet-stream', bytes: new TextEncoder().encode('look-alike') },
  { sourceId: longMedia, name: 'IMG_0001.jpg', mimeType: 'application/octet-stream', bytes: new TextEncoder().encode('long name') },
  { sourceId: 'Documents/notes.txt', name: 'notes.txt', mimeType: 'text/plain', bytes: new TextEncoder().encode('groceries\n') },
];
const conversations = ['conv-a', longConversation, `id-${Buffer.from('conv-a').toString('base64url')}`];
const messages = Array.from({ length: 30 }, (_, i) => ({
  id: `m${String(i).padStart(3, '0')}`,
  conversationId: conversations[i % 3] as string,
  senderId: 'me',
  sentAt: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
  text: `message ${i}`,
}));
const contacts = demoContacts({ contacts: 40, seed: 4 });
let snapshot: Snapshot;
let clean: FolderRestoreSummary;

function readTree(root: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(root, p), readFileSync(p));
    }
  };
  walk(root);
  return out;
}

async function blobOf(sourceId: string): Promise<string> {
  for await (const { item } of restoreItems(contentStoreOf(t.runtime.deps), snapshot, { sourceIds: [sourceId], itemsOnly: true })) return item.blob as string;
  throw new Error(`no item ${sourceId}`);
}

beforeAll(async () => {
  const c = t.client(UID, { deviceId: 'p' });
  const started = await c.startBackup({ types: ['contacts', 'chats', 'media', 'deviceInfo'], sources: { contacts, chats: messages, media, deviceInfo: demoDeviceInfo() } });
  const job = await c.waitForJob(started.jobId, { intervalMs: 20 });
  expect(job.status).toBe('completed');
  snapshot = await c.getSnapshot(job.snapshotId as string);
  clean = await restoreToFolder(contentStoreOf(t.runtime.deps), snapshot, join(t.dir, 'clean'));
});

describe('restore names', () => {
  it('gives every long or look-alike id a file of its own and keeps the ids in the report', () => {
    expect(clean).toMatchObject({ partial: false, failed: [], failedFiles: [], items: { contacts: 40, chats: 30, media: 4, deviceInfo: 1 } });
    const tree = readTree(join(t.dir, 'clean'));
    const fileOf = (type: 'chats' | 'media', id: string) => clean.names.find((n) => n.type === type && n.id === id)?.file ?? `${type}/${id}${type === 'chats' ? '.ndjson' : ''}`;
    for (const m of media) expect([m.sourceId, tree.get(fileOf('media', m.sourceId))?.equals(Buffer.from(m.bytes))]).toEqual([m.sourceId, true]);
    for (const conversation of conversations) {
      const lines = tree.get(fileOf('chats', conversation))?.toString('utf8').trim().split('\n') ?? [];
      expect(lines.map((l) => (JSON.parse(l) as { conversationId: string }).conversationId)).toEqual(Array(10).fill(conversation));
    }
    expect(clean.names.map((n) => n.id).sort()).toEqual(['Audio/memo.bin', 'Documents/notes.txt', longConversation, longMedia].sort());
    for (const name of tree.keys()) expect(Buffer.byteLength(name.split('/').pop() as string)).toBeLessThanOrEqual(255);
    const report = JSON.parse(readFileSync(join(t.dir, 'clean', 'restore-report.json'), 'utf8')) as FolderRestoreSummary;
    expect(report.names).toEqual(clean.names);
  });
});

describe('restore keeps going', () => {
  it('restores every other item byte for byte past a corrupt blob, and reports the one', async () => {
    const blob = await blobOf('Audio/memo.bin');
    const onDisk = join(t.dataDir, 'blobs', 'objects', blobKey(UID, blob));
    const original = readFileSync(onDisk);
    const flipped = Buffer.from(original);
    flipped[flipped.length - 5] = (flipped[flipped.length - 5] ?? 0) ^ 0xff;
    writeFileSync(onDisk, flipped);
    try {
      const to = join(t.dir, 'corrupt');
      const summary = await restoreToFolder(contentStoreOf(t.runtime.deps), snapshot, to);
      expect(summary.partial).toBe(true);
      expect(summary.failed).toEqual([expect.objectContaining({ type: 'media', sourceId: 'Audio/memo.bin', code: 'data-loss' })]);
      expect(summary.items).toEqual({ ...clean.items, media: 3 });
      const expected = readTree(join(t.dir, 'clean'));
      const got = readTree(to);
      const lost = summary.failed[0]?.file as string;
      expect(expected.has(lost)).toBe(true);
      expect(got.has(lost)).toBe(false);
      for (const [name, bytes] of expected) {
        if (name === lost || name === 'restore-report.json') continue;
        expect([name, got.get(name)?.equals(bytes)]).toEqual([name, true]);
      }
      expect(JSON.parse(got.get('restore-report.json')?.toString('utf8') ?? '{}')).toMatchObject({ partial: true, failed: summary.failed });
    } finally {
      writeFileSync(onDisk, original);
    }
  });

  it('names every item of a missing pack and restores the rest of the conversation file set', async () => {
    const blob = await blobOf('m001');
    const key = blobKey(UID, blob);
    const onDisk = join(t.dataDir, 'blobs', 'objects', key);
    const original = readFileSync(onDisk);
    rmSync(onDisk);
    try {
      const to = join(t.dir, 'missing');
      const summary = await restoreToFolder(contentStoreOf(t.runtime.deps), snapshot, to);
      const lostIds = messages.filter((m) => m.conversationId === longConversation).map((m) => m.id);
      expect(summary.failed.map((f) => [f.sourceId, f.code])).toEqual(lostIds.map((id) => [id, 'not-found']));
      expect(summary.items.chats).toBe(20);
      expect(existsSync(join(to, 'chats', 'conv-a.ndjson'))).toBe(true);
    } finally {
      writeFileSync(onDisk, original);
    }
    expect((await verifySnapshot(t.runtime.deps, snapshot)).ok).toBe(true);
  });
});
