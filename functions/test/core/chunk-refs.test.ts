/**
 * Contacts recipe chunks on the engine (core/steps/chunk-refs.ts): registration checks their
 * references, processing copies the referenced contacts' items and runs the strategy on the
 * rest, and a malformed reference line fails the chunk rather than dropping contacts.
 */
import { contentStoreOf } from '../../src/core/deps';
import { sha256Hex } from '../../src/core/hash';
import { loadManifest } from '../../src/core/snapshots/load-manifest';
import { splitRefLines } from '../../src/core/steps/chunk-refs';
import { contactsChunk, createHarness, describeChunk, type Harness } from '../fakes/engine-harness';

const text = (s: string) => new TextEncoder().encode(s);

async function run(h: Harness, uid: string, chunks: Array<{ bytes: Uint8Array; items: number; refs?: string[] }>) {
  const { job } = await h.call('createBackupJob', uid, { deviceId: 'phone-1', types: ['contacts'] });
  const descriptors = chunks.map((c) => ({ ...describeChunk('contacts', c.bytes, c.items), ...(c.refs ? { refs: c.refs } : {}) }));
  const answer = await h.call('registerChunks', uid, { jobId: job.id, chunks: descriptors });
  for (const c of chunks) {
    const id = sha256Hex(c.bytes);
    if (!answer.missing.includes(id)) continue;
    const { uploadUrl } = await h.call('beginChunkUpload', uid, { jobId: job.id, chunkId: id });
    await h.upload(uploadUrl as string, c.bytes);
  }
  const registered = chunks.length - answer.unresolved.length;
  await h.call('commitUpload', uid, { jobId: job.id, chunkCount: registered });
  await h.drain();
  return { jobId: job.id, answer, job: await h.store.getJob(job.id) };
}

describe('contacts recipe chunks', () => {
  it('copy the referenced contacts and process the rest; unknown references are not registered', async () => {
    const h = createHarness();
    const base = contactsChunk(['a1', 'a2', 'a3', 'a4']);
    const first = await run(h, 'rita', [{ bytes: base, items: 4 }]);
    expect(first.job?.status).toBe('completed');
    const baseId = sha256Hex(base);
    h.clock.advance(60_000);

    // a2 edited, a4 removed, a5 added; a1 and a3 by reference.
    const recipe = text(
      `${JSON.stringify({ $ref: baseId, except: ['a2', 'a4'] })}\n` +
        `${JSON.stringify({ id: 'a2', name: { display: 'Edited' } })}\n${JSON.stringify({ id: 'a5', name: { display: 'New' } })}\n`,
    );
    const unknown = text(`${JSON.stringify({ $ref: 'f'.repeat(64), only: ['z1'] })}\n`);
    const second = await run(h, 'rita', [
      { bytes: recipe, items: 4, refs: [baseId] },
      { bytes: unknown, items: 1, refs: ['f'.repeat(64)] },
    ]);
    expect(second.answer).toMatchObject({ missing: [sha256Hex(recipe)], unresolved: [sha256Hex(unknown)] });
    expect(second.job?.status).toBe('completed');
    const snapshot = await h.store.getSnapshot(second.job?.snapshotId as string);
    expect(snapshot?.totals.items).toBe(4);
    expect(snapshot?.changes?.contacts).toMatchObject({ added: 1, changed: 1, removed: 1, unchanged: 2 });

    // Once stored, a recipe is known by its own id, even after what it referred to is collected.
    const entries = await h.store.listChunkIndex({ uid: 'rita', limit: 10 });
    await h.store.deleteChunkIndex('rita', entries.items.filter((e) => e.key.endsWith(baseId)).map((e) => e.key));
    h.clock.advance(60_000);
    const third = await run(h, 'rita', [{ bytes: recipe, items: 4, refs: [baseId] }]);
    expect(third.answer).toMatchObject({ missing: [], known: [sha256Hex(recipe)], unresolved: [] });
    expect(third.job?.status).toBe('completed');

    // Another user's chunk id is not this user's: it cannot be referenced.
    await expect(
      h.call('registerChunks', 'mallory', {
        jobId: (await h.call('createBackupJob', 'mallory', { deviceId: 'p', types: ['contacts'] })).job.id,
        chunks: [{ ...describeChunk('contacts', recipe, 4), refs: [baseId] }],
      }),
    ).resolves.toMatchObject({ unresolved: [sha256Hex(recipe)] });
  });

  it('a record referenced by several lines is copied once: repeated references do not multiply items (issue 16)', async () => {
    const h = createHarness();
    const base = contactsChunk(['a1', 'a2', 'a3']);
    expect((await run(h, 'rita', [{ bytes: base, items: 3 }])).job?.status).toBe('completed');
    const baseId = sha256Hex(base);
    h.clock.advance(60_000);
    const repeated = `${JSON.stringify({ $ref: baseId, except: [] })}\n`.repeat(50) + `${JSON.stringify({ $ref: baseId, only: ['a2'] })}\n`;
    const second = await run(h, 'rita', [{ bytes: text(repeated), items: 3, refs: [baseId] }]);
    expect(second.job?.status).toBe('completed');
    const manifest = await loadManifest(contentStoreOf(h.deps), (await h.store.getSnapshot(second.job?.snapshotId as string))!);
    expect(manifest.items.map((i) => i.sourceId)).toEqual(['a1', 'a2', 'a3']);
  });

  it('chats: messages are named by conversation and id, and their media goes with them', async () => {
    const h = createHarness();
    const line = (conversationId: string, id: string, extra: Record<string, unknown> = {}) =>
      JSON.stringify({ id, conversationId, senderId: 'me', sentAt: '2026-01-01T00:00:00Z', text: id, ...extra });
    // Ids repeat across conversations; m1 has an image (not fetched here: a skipped media item).
    const base = text(`${line('k1', 'm1', { imageUrl: 'https://cdn.example.com/a.jpg' })}\n${line('k1', 'm2')}\n${line('k2', 'm1')}\n`);
    const { job } = await h.call('createBackupJob', 'tess', { deviceId: 'p', types: ['chats'] });
    const post = async (jobId: string, bytes: Uint8Array, items: number, refs?: string[]) => {
      const answer = await h.call('registerChunks', 'tess', { jobId, chunks: [{ id: sha256Hex(bytes), type: 'chats', size: bytes.byteLength, items, ...(refs ? { refs } : {}) }] });
      if (answer.missing.length > 0) await h.upload((await h.call('beginChunkUpload', 'tess', { jobId, chunkId: sha256Hex(bytes) })).uploadUrl as string, bytes);
      await h.call('commitUpload', 'tess', { jobId, chunkCount: 1 });
      await h.drain();
      return h.store.getJob(jobId);
    };
    expect((await post(job.id, base, 3))?.status).toBe('completed');
    h.clock.advance(60_000);

    const recipe = text(`${JSON.stringify({ $ref: sha256Hex(base), except: [['k2', 'm1']] })}\n${line('k2', 'm1', { text: 'edited', editedAt: '2026-01-02T00:00:00Z' })}\n`);
    const second = await h.call('createBackupJob', 'tess', { deviceId: 'p', types: ['chats'] });
    const done = await post(second.job.id, recipe, 3, [sha256Hex(base)]);
    expect(done?.status).toBe('completed');
    const snapshot = await h.store.getSnapshot(done?.snapshotId as string);
    const manifest = await loadManifest(contentStoreOf(h.deps), snapshot as NonNullable<typeof snapshot>);
    const names = manifest.items.map((i) => `${i.type}:${i.conversationId ?? ''}:${i.sourceId}`).sort();
    expect(names).toEqual(['chats:k1:m1', 'chats:k1:m2', 'chats:k2:m1', 'media::chat:k1:m1:imageUrl']);
    expect(manifest.items.find((i) => i.conversationId === 'k2')?.transforms).toContain('edited');
  });

  it('refuse references outside contacts and chats, and a malformed reference line', async () => {
    const h = createHarness();
    const { job } = await h.call('createBackupJob', 'sam', { deviceId: 'p', types: ['contacts', 'deviceInfo'] });
    const info = text('{"model":"x"}');
    await expect(h.call('registerChunks', 'sam', { jobId: job.id, chunks: [{ ...describeChunk('deviceInfo', info, 1), refs: ['a'.repeat(64)] }] })).rejects.toMatchObject({ code: 'invalid-argument' });
    expect(() => splitRefLines(text('{"$ref":"nothex","except":[]}\n{"id":"b1"}\n'))).toThrow(/line 1 is not a valid reference line/);
    expect(() => splitRefLines(text('{"id":"b0"}\n{"$ref":' + '\n'))).toThrow(/line 2/);
    const { refs, rest } = splitRefLines(text(`{"id":"b0"}\n${JSON.stringify({ $ref: 'a'.repeat(64), only: ['b1'] })}\n{"id":"b2"}`));
    expect(refs).toEqual([{ $ref: 'a'.repeat(64), only: ['b1'] }]);
    expect(new TextDecoder().decode(rest)).toBe('{"id":"b0"}\n{"id":"b2"}');
  });
});
