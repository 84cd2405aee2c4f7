import { ContentStore } from '../../src/core/content-store';
import { lifeboatError } from '../../src/core/errors';
import { loadManifest } from '../../src/core/snapshots/load-manifest';
import type { ManifestItem, Snapshot } from '../../src/core/model';
import { restoreItems } from '../../src/core/snapshots/restore-items';
import { pageStateKey } from '../../src/core/sources/server-sources';
import { sourcePage } from '../../src/core/steps/source-page';
import type { ChatSource, ListMessagesOptions, MessagePage, SourceMessage } from '../../src/ports';
import { contactsChunk, createHarness, describeChunk, type Harness } from '../fakes/engine-harness';

/** The app's message store: ordered by (conversationId, id); the cursor is the last key read. */
class FakeChatSource implements ChatSource {
  readonly calls: Array<string | undefined> = [];
  failNext: Array<string | undefined> = [];
  constructor(public messages: SourceMessage[]) {}
  async listMessages(uid: string, { after, limit }: ListMessagesOptions): Promise<MessagePage> {
    this.calls.push(after);
    if (this.failNext.includes(after)) {
      this.failNext = this.failNext.filter((c) => c !== after);
      throw lifeboatError('unavailable', 'store hiccup');
    }
    const key = (m: SourceMessage) => `${String(m['conversationId'])}\u0000${String(m['id'])}`;
    const mine = this.messages.filter((m) => (m['participants'] as string[]).includes(uid)).sort((a, b) => (key(a) < key(b) ? -1 : 1));
    const start = after === undefined ? 0 : mine.findIndex((m) => key(m) > after);
    const page = start < 0 ? [] : mine.slice(start, start + limit);
    const last = page[page.length - 1];
    const more = start >= 0 && start + limit < mine.length;
    return { messages: page.map(({ participants: _p, ...m }) => m), ...(more && last ? { nextCursor: key(last) } : {}) };
  }
}

const message = (id: string, conversationId: string, minute: number, extra: Record<string, unknown> = {}): SourceMessage => ({
  id, conversationId, senderId: 'alice', sentAt: new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString(), text: `text ${id}`,
  participants: ['alice', 'bob'], ...extra,
});

async function manifestOf(h: Harness, jobId: string): Promise<{ snapshot: Snapshot; items: ManifestItem[] }> {
  const job = await h.store.getJob(jobId);
  const snapshot = await h.store.getSnapshot(job?.snapshotId ?? '');
  if (!snapshot) throw new Error(`no snapshot for ${jobId}: ${JSON.stringify(job?.lastError)}`);
  return { snapshot, items: (await loadManifest(new ContentStore(h.blobs), snapshot)).items };
}

/** A job with server chats (and optionally device contacts), committed before any task runs. */
async function run(h: Harness, options: Record<string, unknown>, contacts: Uint8Array | null, drain = true) {
  const types = contacts ? ['chats', 'contacts'] : ['chats'];
  const { job } = await h.call('createBackupJob', 'alice', { deviceId: 'phone-1', types, options: { serverChats: true, ...options } });
  const descriptors = contacts ? [describeChunk('contacts', contacts, 1)] : [];
  if (contacts) {
    const { missing } = await h.call('registerChunks', 'alice', { jobId: job.id, chunks: descriptors });
    for (const d of descriptors.filter((x) => missing.includes(x.id))) {
      const { uploadUrl } = await h.call('beginChunkUpload', 'alice', { jobId: job.id, chunkId: d.id });
      await h.upload(uploadUrl as string, contacts);
    }
  }
  await h.call('commitUpload', 'alice', { jobId: job.id, chunkCount: descriptors.length });
  if (drain) await h.drain();
  return job.id;
}

describe('server-side chats source', () => {
  function setup(messages: SourceMessage[], pageSize = 3) {
    const h = createHarness();
    const source = new FakeChatSource(messages);
    h.deps.chatSource = source;
    h.deps.chatSourcePageSize = pageSize;
    return { h, source };
  }
  const eight = () => [
    ...['a1', 'a2', 'a3', 'a4'].map((id, i) => message(id, 'conv-a', i)),
    ...['b1', 'b2', 'b3'].map((id, i) => message(id, 'conv-b', 10 + i)),
    message('x1', 'conv-x', 20, { participants: ['carol'] }), // not alice's
    message('b4', 'conv-b', 30),
  ];

  it('a message nested past the record limit is skipped; its page and the job go on (issue 16)', async () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 5000; i++) deep = [deep];
    const { h } = setup([message('a1', 'conv-a', 0), message('a2', 'conv-a', 1, { thread: deep }), message('a3', 'conv-a', 2)]);
    const jobId = await run(h, {}, null);
    expect((await h.store.getJob(jobId))?.status).toBe('completed');
    const { items } = await manifestOf(h, jobId);
    expect(items.map((i) => [i.sourceId, i.conversationId, i.skipReason ?? 'stored'])).toEqual([
      ['a1', 'conv-a', 'stored'],
      ['a2', 'conv-a', 'line 2: left out by its sender: nested deeper than the 64-level record limit'],
      ['a3', 'conv-a', 'stored'],
    ]);
  });

  it('reads the user\'s messages page by page, one task per page, and finalize waits for the last page', async () => {
    const { h, source } = setup(eight());
    const jobId = await run(h, {}, null, false);
    // Committed with no device chunks: without the source gate this job would finalize empty.
    await h.drain();
    const { items, snapshot } = await manifestOf(h, jobId);
    expect(items.map((i) => `${i.conversationId}/${i.sourceId}`).sort()).toEqual(
      ['conv-a/a1', 'conv-a/a2', 'conv-a/a3', 'conv-a/a4', 'conv-b/b1', 'conv-b/b2', 'conv-b/b3', 'conv-b/b4'],
    );
    expect(items.every((i) => i.type === 'chats' && i.blob !== null)).toBe(true);
    expect(source.calls).toHaveLength(3); // 8 messages in pages of 3
    expect(h.queue.log.filter((l) => l.startsWith('sourcePage:'))).toEqual([0, 1, 2].map((n) => `sourcePage:${jobId}_source_chats_${n}_1#0 -> ok`));
    const job = await h.store.getJob(jobId);
    expect(job).toMatchObject({ status: 'completed', sourcesDone: ['chats'], progress: { totalChunks: 3, processedChunks: 3, totalItems: 8 } });
    expect(snapshot.totals.items).toBe(8);
    // Page states and page chunks are temporary: finalize cleaned them with the uploads.
    const left: string[] = [];
    for await (const blob of h.blobs.list('uploads/')) left.push(blob.key);
    expect(left).toEqual([]);
  });

  it('a failed page read is retried from the same cursor; persisted pages are never read again', async () => {
    const { h, source } = setup(eight());
    source.failNext = ['conv-a\u0000a3'];
    const jobId = await run(h, {}, null);
    expect((await h.store.getJob(jobId))?.status).toBe('completed');
    expect(source.calls).toEqual([undefined, 'conv-a\u0000a3', 'conv-a\u0000a3', 'conv-b\u0000b2']);
    expect((await manifestOf(h, jobId)).items).toHaveLength(8);
  });

  it('resumes after a crash between persisting a page and enqueueing the next (the page is not read again)', async () => {
    const { h, source } = setup(eight());
    const jobId = await run(h, {}, null, false);
    // Run kickoff only; then page 0 "crashes" after its state is written: the delivery is lost.
    const kick = h.queue.pending.shift();
    await h.definitions.find((d) => d.name === 'kickoff')?.handler(kick?.payload ?? {}, { queue: 'kickoff', taskId: kick?.id ?? '', retryCount: 0 });
    await sourcePage(h.deps, jobId, 'chats', 0);
    h.queue.pending.splice(0, h.queue.pending.length); // the follow-up tasks never made it
    h.queue.seen.clear();
    expect(await h.blobs.exists(pageStateKey('alice', jobId, 'chats', 0))).toBe(true);
    // Cloud Tasks delivers page 0 again (its handler never returned 2xx).
    await sourcePage(h.deps, jobId, 'chats', 0);
    await h.drain();
    expect(source.calls).toEqual([undefined, 'conv-a\u0000a3', 'conv-b\u0000b2']);
    expect((await h.store.getJob(jobId))?.status).toBe('completed');
    expect((await manifestOf(h, jobId)).items).toHaveLength(8);
  });

  it('a job failed mid-source resumes on retryBackup after its last persisted page, without reading earlier pages again', async () => {
    const { h, source } = setup(eight());
    const real = source.listMessages.bind(source);
    let broken = true;
    source.listMessages = async (uid, options) => {
      if (broken && options.after === 'conv-a\u0000a3') {
        source.calls.push(options.after);
        throw lifeboatError('permission-denied', 'store refused', { retryable: false });
      }
      return real(uid, options);
    };
    const jobId = await run(h, {}, null);
    expect(await h.store.getJob(jobId)).toMatchObject({ status: 'failed', lastError: { code: 'permission-denied', step: 'sourcePage' } });
    broken = false;
    await h.call('retryBackup', 'alice', { jobId });
    await h.drain();
    expect(await h.store.getJob(jobId)).toMatchObject({ status: 'completed', attempts: 2 });
    expect(source.calls).toEqual([undefined, 'conv-a\u0000a3', 'conv-a\u0000a3', 'conv-b\u0000b2']);
    expect(h.queue.log.filter((l) => l.includes('_source_chats_0_'))).toEqual([`sourcePage:${jobId}_source_chats_0_1#0 -> ok`, `sourcePage:${jobId}_source_chats_0_2#0 -> ok`]);
    expect((await manifestOf(h, jobId)).items).toHaveLength(8);
  });

  it('fails the job clearly when serverChats is asked of a server without a chat source', async () => {
    const h = createHarness();
    const jobId = await run(h, {}, null);
    expect(await h.store.getJob(jobId)).toMatchObject({ status: 'failed', lastError: { code: 'failed-precondition', step: 'sourcePage' } });
  });

  it('an unchanged second read is satisfied from the chunk index: nothing processed again', async () => {
    const { h } = setup(eight());
    await run(h, {}, null);
    const before = h.queue.log.filter((l) => l.startsWith('processChunk:')).length;
    const second = await run(h, {}, null);
    expect(h.queue.log.filter((l) => l.startsWith('processChunk:')).length).toBe(before);
    expect((await h.store.getJob(second))?.progress).toMatchObject({ totalChunks: 3, processedChunks: 3, bytesDeduplicated: expect.any(Number) });
    expect((await manifestOf(h, second)).items).toHaveLength(8);
  });
});

describe('incremental snapshots', () => {
  it('incrementalOnly stores only new, edited and deleted messages, carries the rest, and restores the whole set', async () => {
    const h = createHarness();
    const source = new FakeChatSource([message('a1', 'conv-a', 1), message('a2', 'conv-a', 2), message('b1', 'conv-b', 3)]);
    h.deps.chatSource = source;
    const first = await run(h, {}, contactsChunk(['c1', 'c2', 'c3']));
    h.clock.advance(60_000);
    source.messages = [
      message('a1', 'conv-a', 1),
      message('a2', 'conv-a', 2, { text: 'edited', editedAt: '2026-02-01T00:00:00Z' }),
      message('b1', 'conv-b', 3, { deleted: true, text: '', editedAt: '2026-02-01T00:00:00Z' }),
      message('b2', 'conv-b', 4),
      message('c1', 'conv-c', 0),
    ];
    const changed = new TextEncoder().encode(new TextDecoder().decode(contactsChunk(['c1', 'c3', 'c4'])).replace('Name c3', 'Renamed c3'));
    const second = await run(h, { incrementalOnly: true }, changed);

    const one = await manifestOf(h, first);
    const two = await manifestOf(h, second);
    expect(two.snapshot.changes?.chats).toEqual({ parentId: one.snapshot.id, added: 2, changed: 1, removed: 1, unchanged: 0, carried: 1 });
    expect(two.snapshot.changes?.contacts).toEqual({ parentId: one.snapshot.id, added: 1, changed: 1, removed: 1, unchanged: 1, carried: 0 });
    expect(one.snapshot.changes?.contacts).toEqual({ parentId: null, added: 3, changed: 0, removed: 0, unchanged: 0, carried: 0 });

    // The second snapshot alone restores every message, each in its latest version.
    const restored: Record<string, unknown>[] = [];
    for await (const { item, bytes } of restoreItems(new ContentStore(h.blobs), two.snapshot, { types: ['chats'] })) {
      if (bytes) restored.push({ key: `${item.conversationId}/${item.sourceId}`, ...JSON.parse(new TextDecoder().decode(bytes)) });
    }
    expect(restored.map((m) => [m['key'], m['text'], m['deleted'] ?? false]).sort()).toEqual([
      ['conv-a/a1', 'text a1', false],
      ['conv-a/a2', 'edited', false],
      ['conv-b/b1', '', true],
      ['conv-b/b2', 'text b2', false],
      ['conv-c/c1', 'text c1', false],
    ]);
    // Only the changed messages were stored by the second job: a1 is the parent's item, carried.
    const a1 = (s: { items: ManifestItem[] }) => s.items.find((i) => i.sourceId === 'a1');
    expect(a1(two)).toEqual(a1(one));
    // Contacts are sent whole: c2 is gone from the second snapshot.
    expect(two.items.filter((i) => i.type === 'contacts').map((i) => i.sourceId).sort()).toEqual(['c1', 'c3', 'c4']);
  });
});
