/**
 * Backups heal by themselves (issue 14, item 1): a chunk whose index entry names a result that is
 * gone is taken as unknown and sent again, never a permanent failure and never a snapshot that
 * names the lost result. Registration answers such a chunk `missing`, a recipe referring to it
 * `unresolved`, and a server-side source page processes its chunk again; processing a recipe
 * whose reference was lost after registration fails with a clear error and drops the entry, so
 * the next backup sends the records whole. Each next backup must restore byte for byte.
 */
import { contentStoreOf } from '../../src/core/deps';
import { blobKey, chunkIndexKey } from '../../src/core/keys';
import { sha256Hex } from '../../src/core/hash';
import { BackupOptions, type Snapshot } from '../../src/core/model';
import { restoreItems, restoredBytes } from '../../src/core/snapshots/restore-items';
import { verifySnapshot } from '../../src/core/snapshots/verify-snapshot';
import { STRATEGIES } from '../../src/strategies';
import type { ChatSource, ListMessagesOptions, MessagePage, SourceMessage } from '../../src/ports';
import { contactsChunk, createHarness, describeChunk, type Harness } from '../fakes/engine-harness';

const UID = 'hana';
const text = (s: string) => new TextEncoder().encode(s);
const deviceInfo = text(JSON.stringify({ model: 'Pixel 9', os: 'android', osVersion: '15', appVersion: '2.0.0', locale: 'en-GB' }));

interface SentChunk {
  type: 'contacts' | 'deviceInfo';
  bytes: Uint8Array;
  items: number;
  refs?: string[];
}

/** One backup as the SDK runs it: register, send what is missing, send unresolved recipes' stand-ins whole, commit. */
async function backup(h: Harness, chunks: SentChunk[], whole: Map<string, SentChunk> = new Map()) {
  const { job } = await h.call('createBackupJob', UID, { deviceId: 'phone-1', types: ['contacts', 'deviceInfo'] });
  await h.drain();
  const describe = (c: SentChunk) => ({ ...describeChunk(c.type, c.bytes, c.items), ...(c.refs ? { refs: c.refs } : {}) });
  const first = await h.call('registerChunks', UID, { jobId: job.id, chunks: chunks.map(describe) });
  const sent = chunks.filter((c) => !first.unresolved.includes(sha256Hex(c.bytes)));
  const replacements = first.unresolved.map((id) => {
    const replacement = whole.get(id);
    if (!replacement) throw new Error(`no whole chunk for the unresolved recipe ${id}`);
    return replacement;
  });
  const second = replacements.length > 0 ? await h.call('registerChunks', UID, { jobId: job.id, chunks: replacements.map(describe) }) : { missing: [], known: [], unresolved: [] };
  const missing = new Set([...first.missing, ...second.missing]);
  const all = [...sent, ...replacements];
  for (const c of all) {
    const id = sha256Hex(c.bytes);
    if (!missing.has(id)) continue;
    const { uploadUrl } = await h.call('beginChunkUpload', UID, { jobId: job.id, chunkId: id });
    await h.upload(uploadUrl as string, c.bytes);
  }
  await h.call('commitUpload', UID, { jobId: job.id, chunkCount: all.length });
  await h.drain();
  const done = await h.store.getJob(job.id);
  return { job: done, first, second, snapshot: done?.snapshotId ? await h.store.getSnapshot(done.snapshotId) : null };
}

/** Every item's restored bytes, by type and id; fails the test on any item that cannot be restored. */
async function restored(h: Harness, snapshot: Snapshot): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const r of restoreItems(contentStoreOf(h.deps), snapshot)) {
    if (r.failure) throw new Error(`${r.item.type}:${r.item.sourceId} cannot be restored: ${r.failure.message}`);
    out.set(`${r.item.type}:${r.item.sourceId}`, Buffer.from((await restoredBytes(r)) ?? new Uint8Array()).toString('base64'));
  }
  return out;
}

async function resultOf(h: Harness, type: 'contacts' | 'deviceInfo', bytes: Uint8Array): Promise<string> {
  const strategy = STRATEGIES[type];
  if (!strategy) throw new Error(`no strategy for ${type}`);
  const [entry] = await h.store.getChunkIndex(UID, [chunkIndexKey(type, strategy.strategyKey(BackupOptions.parse({})), sha256Hex(bytes))]);
  if (!entry) throw new Error('no index entry');
  return entry.resultRef;
}

describe('a lost chunk result', () => {
  it('makes the next backup send the chunk again: it completes, names no lost blob and restores byte for byte', async () => {
    const h = createHarness();
    const contacts = contactsChunk(['c1', 'c2', 'c3']);
    const chunks: SentChunk[] = [{ type: 'contacts', bytes: contacts, items: 3 }, { type: 'deviceInfo', bytes: deviceInfo, items: 1 }];
    const one = await backup(h, chunks);
    expect(one.job?.status).toBe('completed');
    const before = await restored(h, one.snapshot as Snapshot);

    const lost = await resultOf(h, 'contacts', contacts);
    await h.blobs.delete(blobKey(UID, lost));
    h.clock.advance(60_000);

    const two = await backup(h, chunks);
    expect(two.job?.status).toBe('completed');
    expect(two.first.missing).toEqual([sha256Hex(contacts)]);
    expect(two.first.known).toEqual([sha256Hex(deviceInfo)]);
    expect(await restored(h, two.snapshot as Snapshot)).toEqual(before);
    expect((await verifySnapshot(h.deps, two.snapshot as Snapshot)).ok).toBe(true);
    // The result is stored again and the index names it: the backup after needs nothing sent.
    expect(await h.blobs.exists(blobKey(UID, await resultOf(h, 'contacts', contacts)))).toBe(true);
    h.clock.advance(60_000);
    const three = await backup(h, chunks);
    expect(three.first.missing).toEqual([]);
    expect(three.job?.status).toBe('completed');
  });

  it('makes a recipe that refers to it unresolved at registration; sent whole, it restores byte for byte', async () => {
    const h = createHarness();
    const base = contactsChunk(['a1', 'a2', 'a3']);
    const baseId = sha256Hex(base);
    const one = await backup(h, [{ type: 'contacts', bytes: base, items: 3 }]);
    expect(one.job?.status).toBe('completed');
    const before = await restored(h, one.snapshot as Snapshot);
    await h.blobs.delete(blobKey(UID, await resultOf(h, 'contacts', base)));
    h.clock.advance(60_000);

    // a2 edited; a1 and a3 by reference to the chunk whose result is gone.
    const edited = contactsChunk(['a2x']);
    const recipe = text(`${JSON.stringify({ $ref: baseId, only: ['a1', 'a3'] })}\n${new TextDecoder().decode(edited)}`);
    const whole = contactsChunk(['a1', 'a2x', 'a3']);
    const two = await backup(h, [{ type: 'contacts', bytes: recipe, items: 3, refs: [baseId] }], new Map([[sha256Hex(recipe), { type: 'contacts', bytes: whole, items: 3 }]]));
    expect(two.first.unresolved).toEqual([sha256Hex(recipe)]);
    expect([two.job?.status, two.job?.lastError?.message]).toEqual(['completed', undefined]);
    const items = await restored(h, two.snapshot as Snapshot);
    expect([...items.keys()].sort()).toEqual(['contacts:a1', 'contacts:a2x', 'contacts:a3']);
    // The unchanged contacts are the records the first backup stored, byte for byte.
    expect([items.get('contacts:a1'), items.get('contacts:a3')]).toEqual([before.get('contacts:a1'), before.get('contacts:a3')]);
    expect(JSON.parse(Buffer.from(items.get('contacts:a2x') as string, 'base64').toString('utf8'))).toMatchObject({ id: 'a2x' });
    // The parent's lost segment cannot be compared item by item: the changes are estimated, not a failure.
    expect(two.snapshot?.changes?.contacts).toMatchObject({ parentId: one.snapshot?.id, estimated: true });
  });

  it('fails a recipe whose reference was lost after registration with a clear error, and the next backup sends it whole', async () => {
    const h = createHarness();
    const base = contactsChunk(['b1', 'b2']);
    const baseId = sha256Hex(base);
    expect((await backup(h, [{ type: 'contacts', bytes: base, items: 2 }])).job?.status).toBe('completed');
    h.clock.advance(60_000);

    const recipe = text(`${JSON.stringify({ $ref: baseId, only: ['b1'] })}\n${new TextDecoder().decode(contactsChunk(['b3']))}`);
    const { job } = await h.call('createBackupJob', UID, { deviceId: 'phone-1', types: ['contacts'] });
    await h.drain();
    const answer = await h.call('registerChunks', UID, { jobId: job.id, chunks: [{ ...describeChunk('contacts', recipe, 2), refs: [baseId] }] });
    expect(answer.missing).toEqual([sha256Hex(recipe)]);
    // Damage between registration and processing.
    await h.blobs.delete(blobKey(UID, await resultOf(h, 'contacts', base)));
    const { uploadUrl } = await h.call('beginChunkUpload', UID, { jobId: job.id, chunkId: sha256Hex(recipe) });
    await h.upload(uploadUrl as string, recipe);
    await h.call('commitUpload', UID, { jobId: job.id, chunkCount: 1 });
    await h.drain();
    const failed = await h.store.getJob(job.id);
    expect(failed?.status).toBe('failed');
    expect(failed?.lastError).toMatchObject({ code: 'failed-precondition', message: expect.stringContaining('sends these records whole') });

    h.clock.advance(60_000);
    const whole = contactsChunk(['b1', 'b3']);
    const next = await backup(h, [{ type: 'contacts', bytes: recipe, items: 2, refs: [baseId] }], new Map([[sha256Hex(recipe), { type: 'contacts', bytes: whole, items: 2 }]]));
    expect(next.first.unresolved).toEqual([sha256Hex(recipe)]);
    expect(next.job?.status).toBe('completed');
    expect([...(await restored(h, next.snapshot as Snapshot)).keys()].sort()).toEqual(['contacts:b1', 'contacts:b3']);
  });
});

/** The app's message store for server-side chats: one page holds everything. */
class OnePageChats implements ChatSource {
  constructor(private readonly messages: SourceMessage[]) {}
  async listMessages(_uid: string, _options: ListMessagesOptions): Promise<MessagePage> {
    return { messages: this.messages };
  }
}

describe('a lost result of a server-side source page', () => {
  it('is processed again from the page, and the snapshot restores every message', async () => {
    const h = createHarness();
    const messages = ['m1', 'm2', 'm3'].map((id, i) => ({ id, conversationId: 'k', senderId: 'me', sentAt: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(), text: `hi ${id}` }));
    h.deps.chatSource = new OnePageChats(messages);
    const run = async () => {
      const { job } = await h.call('createBackupJob', UID, { deviceId: 'phone-1', types: ['chats'], options: { serverChats: true } });
      await h.call('commitUpload', UID, { jobId: job.id, chunkCount: 0 });
      await h.drain();
      const done = await h.store.getJob(job.id);
      expect([done?.status, done?.lastError?.message]).toEqual(['completed', undefined]);
      return (await h.store.getSnapshot(done?.snapshotId as string)) as Snapshot;
    };
    const first = await run();
    const before = await restored(h, first);
    expect(before.size).toBe(3);
    const [entry] = (await h.store.listChunkIndex({ uid: UID })).items;
    await h.blobs.delete(blobKey(UID, entry?.resultRef as string));
    h.clock.advance(60_000);

    const second = await run();
    expect(await restored(h, second)).toEqual(before);
    expect((await verifySnapshot(h.deps, second)).ok).toBe(true);
  });
});
