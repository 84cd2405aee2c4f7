import { loadManifest } from '../../src/core/snapshots/load-manifest';
import { ContentStore } from '../../src/core/content-store';
import { blobKey } from '../../src/core/keys';
import { restoredBytes, restoreItems } from '../../src/core/snapshots/restore-items';
import { verifySnapshot } from '../../src/core/snapshots/verify-snapshot';
import { readAll } from '../../src/ports/blob-store';
import { canonicalJson, ContactInput, normalizeContact } from '../../src/strategies';
import { contactsChunk, createHarness, describeChunk, type Harness } from '../fakes/engine-harness';

const ids = (from: number, n: number) => Array.from({ length: n }, (_, i) => `c${String(from + i).padStart(4, '0')}`);
const info = new TextEncoder().encode(JSON.stringify({ model: 'Pixel', os: 'android', osVersion: '15', appVersion: '1.0.0', locale: 'en-GB' }));

async function snapshotOf(h: Harness) {
  const chunks = [
    { type: 'contacts' as const, bytes: contactsChunk(ids(0, 3)), items: 3 },
    { type: 'contacts' as const, bytes: contactsChunk(ids(3, 2)), items: 2 },
    { type: 'deviceInfo' as const, bytes: info, items: 1 },
  ];
  const { job } = await h.call('createBackupJob', 'alice', { deviceId: 'p', types: ['contacts', 'deviceInfo'] });
  const descriptors = chunks.map((c) => describeChunk(c.type, c.bytes, c.items));
  await h.call('registerChunks', 'alice', { jobId: job.id, chunks: descriptors });
  for (const [i, c] of chunks.entries()) {
    const { uploadUrl } = await h.call('beginChunkUpload', 'alice', { jobId: job.id, chunkId: descriptors[i]?.id as string });
    await h.upload(uploadUrl as string, c.bytes);
  }
  await h.call('commitUpload', 'alice', { jobId: job.id, chunkCount: 3 });
  await h.drain();
  const done = await h.store.getJob(job.id);
  const snapshot = await h.store.getSnapshot(done?.snapshotId as string);
  if (!snapshot) throw new Error('no snapshot');
  return snapshot;
}

async function rewrite(h: Harness, key: string, change: (bytes: Uint8Array) => Uint8Array) {
  const bytes = await readAll(await h.blobs.get(key));
  await h.blobs.put(key, change(new Uint8Array(bytes)));
}

describe('verifySnapshot', () => {
  it('passes a healthy snapshot and records its health', async () => {
    const h = createHarness();
    const snapshot = await snapshotOf(h);
    const report = await verifySnapshot(h.deps, snapshot);
    expect(report).toMatchObject({ ok: true, totalBlobs: 3, checkedBlobs: 3, checkedItems: 6, problems: [] });
    expect((await h.store.getSnapshot(snapshot.id))?.health).toEqual({ checkedAt: report.checkedAt, ok: true, checkedBlobs: 3, problems: 0 });
  });

  it('names a flipped byte, by blob and items', async () => {
    const h = createHarness();
    const snapshot = await snapshotOf(h);
    const { items } = await loadManifest(new ContentStore(h.blobs), snapshot);
    const target = items[0]?.blob as string;
    await rewrite(h, blobKey('alice', target), (b) => { b[b.length - 3] = (b[b.length - 3] ?? 0) ^ 0xff; return b; });
    const report = await verifySnapshot(h.deps, snapshot);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      expect.objectContaining({ kind: 'corrupt-blob', blob: target, items: [{ type: 'contacts', sourceId: 'c0000' }, { type: 'contacts', sourceId: 'c0001' }, { type: 'contacts', sourceId: 'c0002' }] }),
    ]);
    expect((await h.store.getSnapshot(snapshot.id))?.health).toMatchObject({ ok: false, problems: 1 });
  });

  it('names a deleted blob', async () => {
    const h = createHarness();
    const snapshot = await snapshotOf(h);
    const deviceBlob = (await (async () => { for await (const r of restoreItems(new ContentStore(h.blobs), snapshot, { types: ['deviceInfo'] })) return r.item.blob; })()) as string;
    await h.blobs.delete(blobKey('alice', deviceBlob));
    const report = await verifySnapshot(h.deps, snapshot);
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'missing-blob', blob: deviceBlob, items: [{ type: 'deviceInfo', sourceId: 'deviceInfo' }] })]);
  });

  it('names a truncated manifest', async () => {
    const h = createHarness();
    const snapshot = await snapshotOf(h);
    await rewrite(h, blobKey('alice', snapshot.manifestRef), (b) => b.subarray(0, Math.floor(b.length / 2)));
    const report = await verifySnapshot(h.deps, snapshot);
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'corrupt-manifest', blob: snapshot.manifestRef })]);
  });

  it('a sampled verify reads a share of the blobs, never none', async () => {
    const h = createHarness();
    const snapshot = await snapshotOf(h);
    expect((await verifySnapshot(h.deps, snapshot, { samplePercent: 1, random: () => 0.99 })).checkedBlobs).toBe(1);
    expect((await verifySnapshot(h.deps, snapshot, { samplePercent: 50, random: () => 0.1 })).checkedBlobs).toBe(3);
  });

  it('is reachable through the API, for the owner only', async () => {
    const h = createHarness();
    const snapshot = await snapshotOf(h);
    await expect(h.call('verifySnapshot', 'alice', { snapshotId: snapshot.id })).resolves.toMatchObject({ report: { ok: true } });
    await expect(h.call('verifySnapshot', 'bob', { snapshotId: snapshot.id })).rejects.toMatchObject({ code: 'permission-denied' });
    await expect(h.call('verifySnapshot', 'alice', { snapshotId: snapshot.id, samplePercent: 0 })).rejects.toMatchObject({ code: 'invalid-argument' });
  });
});

describe('restoreItems', () => {
  it('yields every item as the exact stored bytes, in manifest order', async () => {
    const h = createHarness();
    const snapshot = await snapshotOf(h);
    const out: Array<[string, string]> = [];
    for await (const restored of restoreItems(new ContentStore(h.blobs), snapshot)) {
      // Contacts are records of a pack (bytes); the device info is a whole blob (a stream).
      expect(restored.item.part === undefined ? restored.stream : restored.bytes).not.toBeNull();
      out.push([restored.item.sourceId, new TextDecoder().decode((await restoredBytes(restored)) ?? new Uint8Array())]);
    }
    expect(out.map(([id]) => id)).toEqual([...ids(0, 5), 'deviceInfo']);
    const expected = (id: string) => canonicalJson(normalizeContact(ContactInput.parse({ id, name: { display: `Name ${id}` }, emails: [{ address: `${id}@EXAMPLE.com` }] })));
    for (const [id, text] of out.slice(0, 5)) expect(text).toBe(expected(id));
    expect(JSON.parse(out[5]?.[1] ?? '')).toEqual(JSON.parse(new TextDecoder().decode(info)));
  });

  it('restores part: by type, by item', async () => {
    const h = createHarness();
    const snapshot = await snapshotOf(h);
    const collect = async (filter: Parameters<typeof restoreItems>[2]) => {
      const got: string[] = [];
      for await (const { item } of restoreItems(new ContentStore(h.blobs), snapshot, filter)) got.push(item.sourceId);
      return got;
    };
    expect(await collect({ types: ['deviceInfo'] })).toEqual(['deviceInfo']);
    expect(await collect({ sourceIds: ['c0004', 'c0001'] })).toEqual(['c0001', 'c0004']);
    expect(await collect({ types: ['contacts'], sourceIds: ['deviceInfo'] })).toEqual([]);
  });
});
