/**
 * Record-level deltas through the embedded runtime (client-sdk/src/record-delta.ts,
 * core/steps/chunk-refs.ts): after a first backup, a device that edits, adds and removes a few
 * contacts (or adds, edits and deletes a few chat messages) sends those and references to the
 * rest; the snapshot still holds exactly the current set, byte for byte as a whole upload would
 * store it, verifies, and diffs right. A stopped delta run resumes against the same layout. When
 * the server no longer holds a referenced chunk the device sends the chunk whole.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileKeyValueStore } from '@lifeboat/client-sdk/node';
import { contentStoreOf, loadManifest, restoreItems, verifySnapshot, type Snapshot } from '@lifeboat/engine/core';
import { demoContacts, demoMessages } from '../src/demo-data';
import { useTestRuntime } from './helpers/test-runtime';

const t = useTestRuntime('contacts-delta');

/** The stored records of a type in a snapshot, by id (chats: conversation and id), as a restore yields them. */
async function storedRecords(snapshotId: string, type: 'contacts' | 'chats' = 'contacts'): Promise<Map<string, string>> {
  const snapshot = (await t.runtime.deps.store.getSnapshot(snapshotId)) as Snapshot;
  const out = new Map<string, string>();
  for await (const { item, bytes } of restoreItems(contentStoreOf(t.runtime.deps), snapshot, { types: [type] })) {
    if (bytes) out.set(type === 'chats' ? `${item.conversationId ?? ''}/${item.sourceId}` : item.sourceId, new TextDecoder().decode(bytes));
  }
  return out;
}
const storedContacts = (snapshotId: string) => storedRecords(snapshotId, 'contacts');


// Real backups of a few thousand records: seconds alone, past 30 s on a machine at load 14.
jest.setTimeout(120_000);
describe('record-level deltas', () => {
  it('sends edits, additions and removals with references to the rest; the snapshot is the whole new set', async () => {
    const device = t.client('dora');
    const original = demoContacts({ contacts: 3000, seed: 21 });
    const first = await device.startBackup({ types: ['contacts'], sources: { contacts: original } });
    expect((await device.waitForJob(first.jobId, { intervalMs: 20 })).status).toBe('completed');

    // 1 % edited, spread over the book; 3 removed, 2 added.
    const edited = original.map((c, i) => (i % 100 === 7 ? { ...c, note: `edited ${i}` } : c));
    const removed = new Set([edited[10]?.id, edited[1500]?.id, edited[2999]?.id]);
    const current = [...edited.filter((c) => !removed.has(c.id)), { ...original[0], id: 'c900001', note: 'new' }, { ...original[1], id: 'c900002' }];
    const second = await device.startBackup({ types: ['contacts'], sources: { contacts: current } });
    const job = await device.waitForJob(second.jobId, { intervalMs: 20 });
    expect(job.status).toBe('completed');
    // A whole upload would re-send about a third of the first backup (every chunk with an edit).
    expect(second.bytesUploaded).toBeLessThan(first.bytesUploaded * 0.05);
    expect(second.bytesUploaded).toBeGreaterThan(0);

    // The same records as a whole upload of the same contacts stores, for another user.
    const whole = t.client('dora-whole');
    const reference = await whole.startBackup({ types: ['contacts'], sources: { contacts: current } });
    const referenceJob = await whole.waitForJob(reference.jobId, { intervalMs: 20 });
    const got = await storedContacts(job.snapshotId as string);
    const want = await storedContacts(referenceJob.snapshotId as string);
    expect(got.size).toBe(current.length);
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [id, record] of want) expect([id, got.get(id)]).toEqual([id, record]);

    const snapshot = await device.getSnapshot(job.snapshotId as string);
    expect(snapshot.totals.items).toBe(current.length);
    expect((snapshot as unknown as { changes: Record<string, unknown> }).changes['contacts']).toMatchObject({ added: 2, changed: 30, removed: 3 });
    expect((await verifySnapshot(t.runtime.deps, (await t.runtime.deps.store.getSnapshot(snapshot.id)) as Snapshot)).ok).toBe(true);

    // Unchanged since: nothing at all to send, recipes included.
    const third = await device.startBackup({ types: ['contacts'], sources: { contacts: current } });
    expect(third.bytesUploaded).toBe(0);
    expect((await device.waitForJob(third.jobId, { intervalMs: 20 })).status).toBe('completed');
  });

  it('a delta backup stopped mid-way resumes in a new process against the same layout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeboat-delta-ledger-'));
    try {
      const device = () => t.client('finn', { storage: fileKeyValueStore(dir), uploadPieceSize: 256 * 1024 });
      const original = demoContacts({ contacts: 2000, seed: 8 });
      const first = await device().startBackup({ types: ['contacts'], sources: { contacts: original } });
      await device().waitForJob(first.jobId, { intervalMs: 20 });

      const current = original.map((c, i) => (i % 40 === 1 ? { ...c, note: `edited ${i}` } : c));
      const stop = new AbortController();
      let jobId = '';
      const stopped = await device()
        .startBackup({
          types: ['contacts'],
          sources: { contacts: current },
          signal: stop.signal,
          onProgress: (p) => {
            jobId = p.jobId ?? jobId;
            if (p.phase === 'uploading' && p.chunksDone > 0) stop.abort();
          },
        })
        .then(() => null, (err: unknown) => err);
      expect(stopped).toMatchObject({ code: 'backup/aborted' });
      expect(jobId).not.toBe('');

      // As after the app was killed: a new client over the same storage carries it on.
      const [resumed] = await device().resumePending({ sources: { contacts: current } });
      expect(resumed?.jobId).toBe(jobId);
      const job = await device().waitForJob(jobId, { intervalMs: 20 });
      expect(job.status).toBe('completed');
      // Recipes were registered, by both runs alike (a whole upload would register about first.bytesTotal).
      expect(job.progress.bytesTotal).toBeLessThan(first.bytesTotal * 0.5);
      const got = await storedContacts(job.snapshotId as string);
      expect(got.size).toBe(current.length);
      expect(JSON.parse(got.get(current[1]?.id as string) as string)).toMatchObject({ note: 'edited 1' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('chats: new, edited and deleted messages go up, the rest by reference; the snapshot equals a whole upload', async () => {
    const device = t.client('gus');
    const original = demoMessages({ messages: 1200, conversations: 8, seed: 4 });
    const first = await device.startBackup({ types: ['chats'], sources: { chats: original } });
    expect((await device.waitForJob(first.jobId, { intervalMs: 20 })).status).toBe('completed');

    const last = Math.max(...original.map((m) => Date.parse(m.sentAt)));
    const fresh = Array.from({ length: 12 }, (_, i) => ({
      id: `new-${i}`, conversationId: original[i * 13]?.conversationId as string, senderId: 'me', sentAt: new Date(last + (i + 1) * 60_000).toISOString(), text: `new ${i}`,
    }));
    const current = [
      ...original.map((m, i) =>
        i === 100 ? { ...m, text: 'edited', editedAt: new Date(last + 30_000).toISOString() } : i === 500 ? { ...m, deleted: true, editedAt: new Date(last + 40_000).toISOString() } : m),
      ...fresh,
    ];
    const second = await device.startBackup({ types: ['chats'], sources: { chats: current } });
    const job = await device.waitForJob(second.jobId, { intervalMs: 20 });
    expect(job.status).toBe('completed');
    expect(second.bytesUploaded).toBeLessThan(first.bytesUploaded * 0.05);

    const whole = t.client('gus-whole');
    const reference = await whole.startBackup({ types: ['chats'], sources: { chats: current } });
    const referenceJob = await whole.waitForJob(reference.jobId, { intervalMs: 20 });
    const got = await storedRecords(job.snapshotId as string, 'chats');
    const want = await storedRecords(referenceJob.snapshotId as string, 'chats');
    expect(got.size).toBe(want.size);
    for (const [key, record] of want) expect([key, got.get(key)]).toEqual([key, record]);
    const snapshot = await device.getSnapshot(job.snapshotId as string);
    expect((snapshot as unknown as { changes: Record<string, unknown> }).changes['chats']).toMatchObject({ added: 12, changed: 1, removed: 1 });
    expect((await verifySnapshot(t.runtime.deps, (await t.runtime.deps.store.getSnapshot(snapshot.id)) as Snapshot)).ok).toBe(true);
  });

  it('sends a chunk whole when the server no longer holds what it would refer to', async () => {
    const device = t.client('eli');
    const original = demoContacts({ contacts: 600, seed: 5 });
    const first = await device.startBackup({ types: ['contacts'], sources: { contacts: original } });
    const firstJob = await device.waitForJob(first.jobId, { intervalMs: 20 });
    // As if garbage collection had dropped the first backup's chunk results from the index.
    const entries = await t.runtime.deps.store.listChunkIndex({ uid: 'eli', limit: 500 });
    await t.runtime.deps.store.deleteChunkIndex('eli', entries.items.map((e) => e.key));

    const current = original.map((c, i) => (i % 50 === 3 ? { ...c, note: `edited ${i}` } : c));
    const second = await device.startBackup({ types: ['contacts'], sources: { contacts: current } });
    const job = await device.waitForJob(second.jobId, { intervalMs: 20 });
    expect(job.status).toBe('completed');
    // Every chunk went whole: nothing was left to refer to or to deduplicate against.
    expect(second.bytesUploaded).toBe(second.bytesTotal);
    const got = await storedContacts(job.snapshotId as string);
    expect(got.size).toBe(current.length);
    const manifest = await loadManifest(contentStoreOf(t.runtime.deps), (await t.runtime.deps.store.getSnapshot(job.snapshotId as string)) as Snapshot);
    expect(manifest.items.filter((i) => i.type === 'contacts')).toHaveLength(current.length);
    expect(firstJob.snapshotId).not.toBe(job.snapshotId);
  });
});
