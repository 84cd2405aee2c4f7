/**
 * Segmented manifests end to end on the engine (docs/invariants.md, "Manifests"): a snapshot
 * written before segments (format 1) still restores, verifies, plans and serves as a parent; a
 * large file's parts registered out of order restore in file order; restore-plan pages are
 * positions that read a bounded number of segments; an unchanged backup stores nothing new.
 */
import { encodeMediaEnvelope } from '../../../client-sdk/src/media-envelope';
import { ContentStore } from '../../src/core/content-store';
import { sha256Hex } from '../../src/core/hash';
import { encodeManifest } from '../../src/core/manifest';
import { MANIFEST_FORMAT, type BackupType, type Snapshot } from '../../src/core/model';
import { loadManifest } from '../../src/core/snapshots/load-manifest';
import { restoreItems, restoredBytes } from '../../src/core/snapshots/restore-items';
import { openManifest } from '../../src/core/snapshots/snapshot-manifest';
import { verifySnapshot } from '../../src/core/snapshots/verify-snapshot';
import { RESTORE_PAGE_SEGMENTS } from '../../src/core/api/restore-plan';
import { contactsChunk, createHarness, type Harness } from '../fakes/engine-harness';

const enc = (s: string) => new TextEncoder().encode(s);

interface Chunk {
  type: BackupType;
  bytes: Uint8Array;
  items: number;
}

async function backup(h: Harness, uid: string, types: BackupType[], chunks: Chunk[], options: Record<string, unknown> = {}): Promise<Snapshot> {
  h.clock.advance(60_000);
  const { job } = await h.call('createBackupJob', uid, { deviceId: 'phone', types, options });
  const descriptors = chunks.map((c) => ({ id: sha256Hex(c.bytes), type: c.type, size: c.bytes.byteLength, items: c.items }));
  const { missing } = await h.call('registerChunks', uid, { jobId: job.id, chunks: descriptors });
  for (const c of chunks) {
    const id = sha256Hex(c.bytes);
    if (!missing.includes(id)) continue;
    const { uploadUrl } = await h.call('beginChunkUpload', uid, { jobId: job.id, chunkId: id });
    if (uploadUrl) await h.upload(uploadUrl, c.bytes);
  }
  await h.call('commitUpload', uid, { jobId: job.id, chunkCount: new Set(descriptors.map((d) => d.id)).size });
  await h.drain();
  const done = await h.store.getJob(job.id);
  expect(done).toMatchObject({ status: 'completed' });
  return (await h.store.getSnapshot(done?.snapshotId as string)) as Snapshot;
}

const contacts = (ids: string[]): Chunk => ({ type: 'contacts', bytes: contactsChunk(ids), items: ids.length });
const chat = (conversationId: string, n: number, day = 1): Chunk => ({
  type: 'chats',
  bytes: enc(Array.from({ length: n }, (_, i) => JSON.stringify({ id: `m${i}`, conversationId, senderId: 'u1', sentAt: `2024-01-${String(day).padStart(2, '0')}T00:00:${String(i % 60).padStart(2, '0')}Z`, text: `hello ${i}` })).join('\n') + '\n'),
  items: n,
});

/** Rewrites a snapshot's manifest as the single format-1 blob snapshots had before segments. */
async function asFormat1(h: Harness, snapshot: Snapshot): Promise<Snapshot> {
  const content = new ContentStore(h.blobs);
  const { items } = await loadManifest(content, snapshot);
  const header = { format: MANIFEST_FORMAT, snapshotId: snapshot.id, jobId: snapshot.jobId, uid: snapshot.uid, deviceId: snapshot.deviceId, createdAt: snapshot.createdAt, types: snapshot.types, items: items.length };
  const { hash } = await content.put(snapshot.uid, encodeManifest(header, items));
  const old = { ...snapshot, manifestRef: hash };
  await h.store.runTransaction(async (tx) => tx.setSnapshot(old));
  return old;
}

describe('segmented manifests', () => {
  it('a format-1 snapshot still restores, verifies and plans, and is the parent of the next backup', async () => {
    const h = createHarness();
    const first = await asFormat1(h, await backup(h, 'alice', ['contacts'], [contacts(['c1', 'c2', 'c3']), contacts(['c4', 'c5'])]));
    const content = new ContentStore(h.blobs);
    expect((await openManifest(content, first)).format).toBe(1);
    const restored: string[] = [];
    for await (const { item, bytes } of restoreItems(content, first)) restored.push(`${item.sourceId}:${bytes?.byteLength ?? 0 > 0}`);
    expect(restored).toHaveLength(5);
    expect((await verifySnapshot(h.deps, first)).ok).toBe(true);
    h.deps.downloads = { link: async ({ blob }) => `mem://download/${blob}` };
    const plan = await h.call('getRestorePlan', 'alice', { snapshotId: first.id, pageSize: 2 });
    expect(plan).toMatchObject({ totalItems: 5, nextPageToken: '2' });

    const second = await backup(h, 'alice', ['contacts'], [contacts(['c1', 'c2', 'c3x']), contacts(['c4', 'c5'])]);
    expect((await openManifest(content, second)).format).toBe(2);
    expect(second.changes?.contacts).toMatchObject({ parentId: first.id, added: 1, removed: 1, unchanged: 4, changed: 0 });
    expect((await loadManifest(content, second)).items.map((i) => i.sourceId)).toEqual(['c1', 'c2', 'c3x', 'c4', 'c5']);
  });

  it('an incremental chats backup carries its format-1 parent forward', async () => {
    const h = createHarness();
    const options = { incrementalOnly: true };
    const first = await asFormat1(h, await backup(h, 'bob', ['chats'], [chat('conv-a', 5), chat('conv-b', 3)], options));
    const second = await backup(h, 'bob', ['chats'], [chat('conv-a', 7, 2)], options);
    const items = (await loadManifest(new ContentStore(h.blobs), second)).items;
    // conv-a's m0..m4 are sent again (edited), m5 and m6 are new; conv-b is carried, unread.
    expect(second.changes?.chats).toMatchObject({ parentId: first.id, carried: 3, changed: 5, added: 2 });
    expect(new Set(items.map((i) => `${i.conversationId}/${i.sourceId}`)).size).toBe(items.length);
    expect(items.filter((i) => i.conversationId === 'conv-b')).toHaveLength(3);
  });

  it('a large file’s parts registered out of order restore in file order', async () => {
    const h = createHarness();
    const file = Uint8Array.from({ length: 3000 }, (_, i) => (i * 13) % 251);
    const part = (index: number): Chunk => ({
      type: 'media',
      bytes: encodeMediaEnvelope({ sourceId: 'Movies/long.mov', name: 'long.mov', mimeType: 'video/quicktime' }, file.subarray(index * 1000, index * 1000 + 1000), { index, offset: index * 1000, fileSize: 3000 }),
      items: 1,
    });
    const note: Chunk = { type: 'media', bytes: encodeMediaEnvelope({ sourceId: 'note.txt', name: 'note.txt', mimeType: 'text/plain' }, enc('a note')), items: 1 };
    const snapshot = await backup(h, 'carol', ['media'], [part(2), note, part(0), part(1)]);
    const joined: number[] = [];
    const order: string[] = [];
    for await (const restored of restoreItems(new ContentStore(h.blobs), snapshot)) {
      const { item } = restored;
      order.push(`${item.sourceId}@${item.segment?.offset ?? '-'}`);
      if (item.segment) joined.push(...((await restoredBytes(restored)) as Uint8Array));
    }
    expect(order).toEqual(['note.txt@-', 'Movies/long.mov@0', 'Movies/long.mov@1000', 'Movies/long.mov@2000']);
    expect(Uint8Array.from(joined)).toEqual(file);
  });

  it('restore-plan pages are positions: deterministic, and a narrow filter reads a bounded number of segments per page', async () => {
    const h = createHarness();
    h.deps.downloads = { link: async ({ blob }) => `mem://download/${blob}` };
    const conversations = Array.from({ length: RESTORE_PAGE_SEGMENTS + 6 }, (_, i) => chat(`conv-${String(i).padStart(3, '0')}`, 2));
    const snapshot = await backup(h, 'dan', ['chats'], conversations);
    // Every item, in pages of 7: the same pages when asked again, and together every item once.
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await h.call('getRestorePlan', 'dan', { snapshotId: snapshot.id, pageSize: 7, ...(token ? { pageToken: token } : {}) });
      const again = await h.call('getRestorePlan', 'dan', { snapshotId: snapshot.id, pageSize: 7, ...(token ? { pageToken: token } : {}) });
      expect(again.items).toEqual(page.items);
      expect(page.totalItems).toBe(2 * conversations.length);
      seen.push(...page.items.map((i) => `${i.conversationId}/${i.sourceId}`));
      token = page.nextPageToken ?? undefined;
      pages += 1;
    } while (token);
    expect(seen).toHaveLength(2 * conversations.length);
    expect(new Set(seen).size).toBe(seen.length);
    expect(pages).toBe(Math.ceil(seen.length / 7));
    // Only the last conversation: its segment is found by the segments' marks, the others unread.
    const last = `conv-${String(conversations.length - 1).padStart(3, '0')}`;
    const narrow = await h.call('getRestorePlan', 'dan', { snapshotId: snapshot.id, conversations: [last] });
    expect(narrow).toMatchObject({ totalItems: null, nextPageToken: null });
    expect(narrow.items.map((i) => i.conversationId)).toEqual([last, last]);
    // An item filter no stats can answer: a page stops after RESTORE_PAGE_SEGMENTS segments, with a token to go on.
    const scan = await h.call('getRestorePlan', 'dan', { snapshotId: snapshot.id, itemIds: ['no-such-message'] });
    expect(scan).toMatchObject({ items: [], nextPageToken: `chats.${RESTORE_PAGE_SEGMENTS}.0` });
    expect(await h.call('getRestorePlan', 'dan', { snapshotId: snapshot.id, itemIds: ['no-such-message'], pageToken: scan.nextPageToken as string })).toMatchObject({ items: [], nextPageToken: null });
    await expect(h.call('getRestorePlan', 'dan', { snapshotId: snapshot.id, pageToken: 'chats.999.0' })).rejects.toMatchObject({ code: 'invalid-argument' });
  });

  it('an unchanged backup of several types stores nothing; a changed one writes only its changed segments and nodes', async () => {
    const h = createHarness();
    const chunks = [contacts(['c1', 'c2']), chat('conv-a', 4), { type: 'deviceInfo' as const, bytes: enc(JSON.stringify({ model: 'Pixel', os: 'android', osVersion: '15', appVersion: '1', locale: 'en' })), items: 1 }];
    const types: BackupType[] = ['contacts', 'chats', 'deviceInfo'];
    const first = await backup(h, 'erin', types, chunks);
    const count = async () => { let n = 0; for await (const _ of h.blobs.list('users/erin/blobs/')) n += 1; return n; };
    const before = await count();
    const second = await backup(h, 'erin', types, chunks);
    expect(await count()).toBe(before);
    expect(second.manifestRef).toBe(first.manifestRef);
    expect(second.changes).toMatchObject({ contacts: { unchanged: 2, added: 0, removed: 0 }, chats: { unchanged: 4 }, deviceInfo: { unchanged: 1 } });
    const third = await backup(h, 'erin', types, [contacts(['c1', 'c2', 'c3']), ...chunks.slice(1)]);
    // New: the contacts pack, its result, one leaf node, the root.
    expect(await count()).toBe(before + 4);
    expect(third.changes?.contacts).toMatchObject({ added: 1, unchanged: 2 });
    expect(third.totals).toMatchObject({ items: 8, chunks: 3 });
  });
});
