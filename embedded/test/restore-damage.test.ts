/**
 * Folder restore that keeps going (issue 14 item 2) and safe restore names (issue 16 items 2, 3):
 * a snapshot with one corrupt blob restores every other item byte for byte and reports the one;
 * ids longer than a file name allows, or that look like another id's encoding, each get a file of
 * their own; nothing is merged and nothing stops the restore. A large file whose parts do not
 * make the file (issue 16 item 6), or one of whose parts is lost, fails alone and is not written.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { RestoreSink, RestoreWriter } from '@lifeboat/client-sdk';
import { blobKey, contentStoreOf, restoreItems, verifySnapshot, type Snapshot } from '@lifeboat/engine/core';
import { BAD_PARTS, craftedSnapshot, fileBytes, GOOD_PARTS } from '../../functions/test/fakes/crafted-snapshot';
import { demoContacts, demoDeviceInfo } from '../src/demo-data';
import { restoreToFolder, type FolderRestoreSummary } from '../src/restore/folder-restore';
import { OutputFile, OutputFolder } from '../src/restore/output-file';
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
    // Every media file goes under the name the app gave it (`b.bin` for the look-alike id), so each is mapped back.
    expect(clean.names.map((n) => n.id).sort()).toEqual(['Audio/memo.bin', 'Documents/notes.txt', longConversation, longMedia, media[1]?.sourceId].sort());
    expect(clean.names.filter((n) => n.type === 'media').map((n) => n.file).sort()).toEqual(['media/IMG_0001.jpg', 'media/b.bin', 'media/memo.bin', 'media/notes.txt']);
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

describe('large-file parts are checked', () => {
  it('fails a file whose parts do not make it (partial restore, no file of the wrong size) and restores the rest', async () => {
    const content = contentStoreOf(t.runtime.deps);
    const crafted = await craftedSnapshot(content, UID, { 'good.mov': GOOD_PARTS, ...BAD_PARTS }, { id: 'snap_parts', store: t.runtime.deps.store });
    const to = join(t.dir, 'parts');
    const summary = await restoreToFolder(content, crafted, to);
    expect(summary.partial).toBe(true);
    expect(summary.items).toEqual({ media: 3 });
    expect(summary.failed.map((f) => [f.sourceId, f.code]).sort()).toEqual(Object.keys(BAD_PARTS).map((k) => [k, 'data-loss']).sort());
    expect(readdirSync(join(to, 'media')).sort()).toEqual(['good.mov', 'note-2.txt', 'note.txt']);
    expect(readFileSync(join(to, 'media', 'good.mov')).equals(Buffer.from(fileBytes(3000)))).toBe(true);
    expect(summary.files).not.toContain('media/gap');
  });

  it('fails a file a part of which is corrupt, deleting what was written of it', async () => {
    const content = contentStoreOf(t.runtime.deps);
    const crafted = await craftedSnapshot(content, UID, { 'big.mov': GOOD_PARTS }, { id: 'snap_parts_corrupt' });
    const last = await (async () => {
      let blob = '';
      for await (const { item } of restoreItems(content, crafted, { sourceIds: ['big.mov'], itemsOnly: true })) blob = item.blob as string;
      return blob;
    })();
    const onDisk = join(t.dataDir, 'blobs', 'objects', blobKey(UID, last));
    const original = readFileSync(onDisk);
    rmSync(onDisk);
    try {
      const to = join(t.dir, 'parts-corrupt');
      const summary = await restoreToFolder(content, crafted, to);
      expect(summary.failed).toEqual([expect.objectContaining({ sourceId: 'big.mov', code: 'not-found', file: 'media/big.mov' })]);
      expect(existsSync(join(to, 'media', 'big.mov'))).toBe(false);
      expect(readdirSync(join(to, 'media')).sort()).toEqual(['note-2.txt', 'note.txt']);
    } finally {
      writeFileSync(onDisk, original);
    }
  });
});

describe('restore streams have their errors handled', () => {
  it('never overwrites or crashes on a file that cannot be created', async () => {
    const dir = join(t.dir, 'output-file');
    mkdirSync(dir);
    writeFileSync(join(dir, 'mine.txt'), 'mine');
    const existing = new OutputFile(join(dir, 'mine.txt'));
    expect(await existing.write('theirs')).toBe(true); // the open fails after the write is queued
    await existing.discard();
    expect(existing.error?.code).toBe('EEXIST');
    expect(await existing.write('more')).toBe(false);
    expect(readFileSync(join(dir, 'mine.txt'), 'utf8')).toBe('mine');
    const orphan = new OutputFile(join(dir, 'no-such-folder', 'x'));
    await orphan.write(new Uint8Array(10));
    await orphan.close();
    expect(orphan.error?.code).toBe('ENOENT');
  });

  it('keeps few files open: shared files closed beyond the limit are reopened to append', async () => {
    const folder = new OutputFolder(join(t.dir, 'lru'), 2);
    for (let round = 0; round < 3; round++) {
      for (const name of ['a', 'b', 'c', 'd', 'e']) expect(await folder.append(`chats/${name}.ndjson`, `${name}${round}\n`)).toBe(true);
    }
    expect(await folder.closeAll()).toEqual([]);
    for (const name of ['a', 'b', 'c', 'd', 'e']) expect(readFileSync(join(t.dir, 'lru', 'chats', `${name}.ndjson`), 'utf8')).toBe(`${name}0\n${name}1\n${name}2\n`);
    expect(folder.created).toEqual(['a', 'b', 'c', 'd', 'e'].map((n) => `chats/${n}.ndjson`));
  });

  it('reports a file the disk has no room for and restores the rest (a 128 KiB tmpfs)', async () => {
    const mountPoint = join(t.dir, 'small-disk');
    mkdirSync(mountPoint);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=128k', 'tmpfs', mountPoint]);
    if (mounted.status !== 0) {
      console.warn(`skipped: cannot mount a tmpfs here (${mounted.stderr?.toString().trim() || `exit ${mounted.status}`})`);
      return;
    }
    try {
      const content = contentStoreOf(t.runtime.deps);
      const big = [{ index: 0, offset: 0, fileSize: 400_000, length: 400_000 }];
      const crafted = await craftedSnapshot(content, UID, { 'huge.mov': big }, { id: 'snap_full_disk' });
      const summary = await restoreToFolder(content, crafted, join(mountPoint, 'to'));
      expect(summary.failed).toEqual([expect.objectContaining({ sourceId: 'huge.mov', code: 'resource-exhausted', reason: expect.stringContaining('ENOSPC') })]);
      expect(readdirSync(join(mountPoint, 'to', 'media')).sort()).toEqual(['note-2.txt', 'note.txt']);
      expect(JSON.parse(readFileSync(join(mountPoint, 'to', 'restore-report.json'), 'utf8'))).toMatchObject({ partial: true });
    } finally {
      spawnSync('umount', [mountPoint]);
    }
  });
});

/** A sink that keeps each item's bytes and records how every writer ended. */
function recordingSink(): { sink: RestoreSink; done: Map<string, Buffer>; ends: Array<[string, 'close' | 'abort']>; opened: number } {
  const state = { done: new Map<string, Buffer>(), ends: [] as Array<[string, 'close' | 'abort']>, opened: 0 };
  const sink: RestoreSink = {
    open(item) {
      state.opened += 1;
      const parts: Buffer[] = [];
      const id = `${item.type}:${item.sourceId}:${item.part ?? ''}`;
      return {
        write: (bytes) => void parts.push(Buffer.from(bytes)),
        close: () => {
          state.ends.push([id, 'close']);
          state.done.set(id, Buffer.concat(parts));
        },
        abort: () => void state.ends.push([id, 'abort']),
      };
    },
  };
  return {
    sink,
    get done() { return state.done; },
    get ends() { return state.ends; },
    get opened() { return state.opened; },
  };
}

describe('SDK restore keeps going', () => {
  it('restores every other item past a corrupt and a missing blob, and lists them in result.failed', async () => {
    const clean = recordingSink();
    const c = t.client(UID, { deviceId: 'p' });
    expect((await c.restore({ snapshotId: snapshot.id, sink: clean.sink })).failed).toEqual([]);
    const corrupt = join(t.dataDir, 'blobs', 'objects', blobKey(UID, await blobOf('Audio/memo.bin')));
    const missing = join(t.dataDir, 'blobs', 'objects', blobKey(UID, await blobOf('deviceInfo')));
    const saved = [readFileSync(corrupt), readFileSync(missing)] as const;
    const flipped = Buffer.from(saved[0]);
    flipped[flipped.length - 5] = (flipped[flipped.length - 5] ?? 0) ^ 0xff;
    writeFileSync(corrupt, flipped);
    rmSync(missing);
    try {
      const damaged = recordingSink();
      const result = await c.restore({ snapshotId: snapshot.id, sink: damaged.sink });
      expect(result.failed.map((f) => [f.sourceId, f.code]).sort()).toEqual([['Audio/memo.bin', 'backup/data-loss'], ['deviceInfo', 'backup/not-found']]);
      expect(result.items).toBe(clean.done.size - 2);
      for (const [id, bytes] of clean.done) {
        if (id.startsWith('media:Audio/memo.bin') || id.startsWith('deviceInfo')) expect(damaged.done.has(id)).toBe(false);
        else expect([id, damaged.done.get(id)?.equals(bytes)]).toEqual([id, true]);
      }
    } finally {
      writeFileSync(corrupt, saved[0]);
      writeFileSync(missing, saved[1]);
    }
  });

  it('checks a large file part by part across pages: a bad file is reported and its writer aborted, never left open', async () => {
    const crafted = await craftedSnapshot(contentStoreOf(t.runtime.deps), UID, { 'good.mov': GOOD_PARTS, ...BAD_PARTS }, { id: 'snap_sdk_parts', store: t.runtime.deps.store });
    for (const pageSize of [2000, 2]) {
      const rec = recordingSink();
      const result = await t.client(UID, { deviceId: 'p' }).restore({ snapshotId: crafted.id, sink: rec.sink, pageSize });
      expect(result.failed.map((f) => [f.sourceId, f.code]).sort()).toEqual(Object.keys(BAD_PARTS).map((k) => [k, 'backup/data-loss']).sort());
      expect(result.items).toBe(3);
      expect(rec.done.get('media:good.mov:')?.equals(Buffer.from(fileBytes(3000)))).toBe(true);
      // Every writer the sink opened ended once: closed when complete, aborted when its file failed.
      expect(rec.ends).toHaveLength(rec.opened);
      expect(rec.ends.filter(([, how]) => how === 'close').map(([id]) => id).sort()).toEqual(['media:good.mov:', 'media:note-2.txt:', 'media:note.txt:']);
    }
  });

  it('aborts the open writer when the restore stops', async () => {
    const crafted = await craftedSnapshot(contentStoreOf(t.runtime.deps), UID, { 'big.mov': GOOD_PARTS }, { id: 'snap_sdk_abort', store: t.runtime.deps.store });
    const controller = new AbortController();
    const rec = recordingSink();
    const sink: RestoreSink = {
      open: (item) => {
        const writer = rec.sink.open(item) as RestoreWriter;
        return item.segment ? { ...writer, write: (bytes) => { writer.write(bytes); controller.abort(); } } : writer;
      },
    };
    await expect(t.client(UID, { deviceId: 'p' }).restore({ snapshotId: crafted.id, sink, signal: controller.signal })).rejects.toMatchObject({ code: 'backup/aborted' });
    expect(rec.ends).toEqual([['media:note.txt:', 'close'], ['media:big.mov:', 'abort']]);
  });
});
