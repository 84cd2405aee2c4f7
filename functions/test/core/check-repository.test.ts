/**
 * `check` and `check --repair` on the engine over the in-memory stores (issue 14, item 1): each
 * kind of object deleted or with a byte flipped (content blob, chunk result, manifest root and
 * node, chat watermarks, index entry, snapshot record) is named with what it breaks; the repair
 * makes the next backup succeed, and a second check is clean apart from the snapshots that really
 * lost data, which stay marked. The repair holds the GC lease while it deletes and leaves alone
 * what changed since the check.
 */
import { readAll, type BlobStore, type CallOptions, type PutOptions } from '../../src/ports';
import { contentStoreOf } from '../../src/core/deps';
import { lifeboatError } from '../../src/core/errors';
import { sha256Hex } from '../../src/core/hash';
import { blobKey, chunkIndexKey } from '../../src/core/keys';
import { BackupOptions, type ChunkIndexEntry, type Snapshot } from '../../src/core/model';
import type { CheckProblem, UserCheckReport } from '../../src/core/snapshots/check-report';
import { checkRepository, checkUser, type CheckOptions } from '../../src/core/snapshots/check-repository';
import { loadManifest } from '../../src/core/snapshots/load-manifest';
import { manifestObjects } from '../../src/core/snapshots/snapshot-manifest';
import { STRATEGIES } from '../../src/strategies';
import { contactsChunk, createHarness, describeChunk, type Harness } from '../fakes/engine-harness';
import { MemoryBlobStore } from '../fakes/memory-blob-store';

const UID = 'kim';
const text = (s: string) => new TextEncoder().encode(s);
const deviceInfo = (model: string) => text(JSON.stringify({ model, os: 'android', osVersion: '15', appVersion: '2.0.0', locale: 'en-GB' }));
const chats = text(['m1', 'm2'].map((id, i) => JSON.stringify({ id, conversationId: 'k', senderId: 'me', sentAt: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(), text: `hello ${id}` })).join('\n') + '\n');
const C1 = contactsChunk(['c1', 'c2', 'c3']);
const C2 = contactsChunk(['c4']);
const D1 = deviceInfo('Pixel 8');
const D2 = deviceInfo('Pixel 9');
type Type = 'contacts' | 'deviceInfo' | 'chats';
interface Sent { type: Type; bytes: Uint8Array; items: number }
/** The first backup: S1. */
const A: Sent[] = [{ type: 'contacts', bytes: C1, items: 3 }, { type: 'deviceInfo', bytes: D1, items: 1 }, { type: 'chats', bytes: chats, items: 2 }];
/** The second (S2) and every later one: C1 and the chats shared with S1. */
const B: Sent[] = [{ type: 'contacts', bytes: C1, items: 3 }, { type: 'contacts', bytes: C2, items: 1 }, { type: 'deviceInfo', bytes: D2, items: 1 }, { type: 'chats', bytes: chats, items: 2 }];
const MINUTE = 60_000;

async function backup(h: Harness, chunks: Sent[]) {
  h.clock.advance(2 * MINUTE);
  const { job } = await h.call('createBackupJob', UID, { deviceId: 'phone-1', types: ['contacts', 'deviceInfo', 'chats'] });
  await h.drain();
  const { missing } = await h.call('registerChunks', UID, { jobId: job.id, chunks: chunks.map((c) => ({ ...describeChunk('contacts', c.bytes, c.items), type: c.type })) });
  for (const c of chunks) {
    const id = sha256Hex(c.bytes);
    if (!missing.includes(id)) continue;
    const { uploadUrl } = await h.call('beginChunkUpload', UID, { jobId: job.id, chunkId: id });
    await h.upload(uploadUrl as string, c.bytes);
  }
  await h.call('commitUpload', UID, { jobId: job.id, chunkCount: chunks.length });
  await h.drain();
  const done = await h.store.getJob(job.id);
  return { job: done, missing, snapshot: done?.snapshotId ? ((await h.store.getSnapshot(done.snapshotId)) as Snapshot) : null };
}

async function setup(blobs?: (inner: MemoryBlobStore) => BlobStore) {
  let h: Harness | undefined;
  const memory = new MemoryBlobStore({ now: () => h?.clock.now() ?? 0 });
  h = createHarness({ blobs: blobs ? blobs(memory) : memory });
  const s1 = (await backup(h, A)).snapshot as Snapshot;
  const s2 = (await backup(h, B)).snapshot as Snapshot;
  expect([s1, s2].every(Boolean)).toBe(true);
  return { h, memory, s1, s2 };
}

const indexKey = (type: Type, bytes: Uint8Array) => chunkIndexKey(type, (STRATEGIES[type] as { strategyKey(o: BackupOptions): string }).strategyKey(BackupOptions.parse({})), sha256Hex(bytes));

async function entryOf(h: Harness, type: Type, bytes: Uint8Array): Promise<ChunkIndexEntry> {
  const [entry] = await h.store.getChunkIndex(UID, [indexKey(type, bytes)]);
  if (!entry) throw new Error(`no index entry for a ${type} chunk`);
  return entry;
}

async function blobOf(h: Harness, snapshot: Snapshot, sourceId: string): Promise<string> {
  const item = (await loadManifest(contentStoreOf(h.deps), snapshot)).items.find((i) => i.sourceId === sourceId);
  if (!item?.blob) throw new Error(`no blob for ${sourceId}`);
  return item.blob;
}

/** The `nth` object of a kind in a snapshot's manifest, of those `other` does not share. */
async function objectOf(h: Harness, snapshot: Snapshot, kind: 'node' | 'watermarks', nth = 0, other?: Snapshot): Promise<string> {
  const refsOf = async (s: Snapshot) => {
    const refs: string[] = [];
    for await (const o of manifestObjects(contentStoreOf(h.deps), s)) if (o.kind === kind) refs.push(o.ref);
    return refs;
  };
  const shared = new Set(other ? await refsOf(other) : []);
  const refs = (await refsOf(snapshot)).filter((r) => !shared.has(r));
  if (!refs[nth]) throw new Error(`no ${kind} ${nth}`);
  return refs[nth] as string;
}

async function flip(blobs: BlobStore, hash: string): Promise<void> {
  const key = blobKey(UID, hash);
  const bytes = await readAll(await blobs.get(key));
  bytes[bytes.length - 3] = (bytes[bytes.length - 3] ?? 0) ^ 0x5a;
  await blobs.put(key, bytes);
}

const check = (h: Harness, options: CheckOptions = {}) => checkUser(h.deps, UID, options);
const only = (report: UserCheckReport): CheckProblem => {
  expect(report.problems).toHaveLength(1);
  return report.problems[0] as CheckProblem;
};

/** Repairs, then checks that the next backup succeeds; returns the second check. */
async function repairAndBackUp(h: Harness, options: CheckOptions = {}) {
  const repaired = await check(h, { ...options, repair: true });
  // Past the time a damage mark takes to count for new backups (sources/baseline.ts).
  h.clock.advance(2 * MINUTE);
  const next = await backup(h, B);
  expect([next.job?.status, next.job?.lastError?.message]).toEqual(['completed', undefined]);
  return { repaired, next, second: await check(h, options) };
}

describe('check on a whole repository', () => {
  it('is clean, reads every manifest object once and every content blob it is asked to', async () => {
    const { h } = await setup();
    const report = await check(h);
    expect(report).toMatchObject({ ok: true, problems: [], damagedSnapshots: [], snapshots: 2, indexEntries: 5, unindexedResults: 0, contentRead: 0, repair: null });
    // Roots 2, contacts nodes 2, device-info nodes 2, one chats node and its watermarks, 5 results.
    expect(report.manifestObjects).toBe(13);
    expect(report.contentBlobs).toBeGreaterThanOrEqual(5);
    expect((await check(h, { readDataPercent: 100 })).contentRead).toBe(report.contentBlobs);
    // A share reads at least one blob, never none.
    expect((await check(h, { readDataPercent: 1, random: () => 0.99 })).contentRead).toBe(1);
  });

  it('refuses bad input with a clear error', async () => {
    const { h } = await setup();
    await expect(checkUser(h.deps, '../etc', {})).rejects.toMatchObject({ code: 'invalid-argument', message: expect.stringContaining('uid') });
    await expect(check(h, { readDataPercent: 101 })).rejects.toMatchObject({ code: 'invalid-argument', message: expect.stringContaining('readDataPercent') });
    await expect(checkRepository(h.deps, undefined)).rejects.toMatchObject({ code: 'invalid-argument' });
    const wrongKey = { dataKey: async () => Promise.reject(lifeboatError('data-loss', 'the data key does not unwrap')), destroyDataKey: async () => {} };
    await expect(checkUser({ ...h.deps, keyRing: wrongKey }, UID)).rejects.toMatchObject({ code: 'failed-precondition', message: expect.stringContaining('master key') });
  });

  it('checks every user the runtime lists', async () => {
    const { h } = await setup();
    const report = await checkRepository({ ...h.deps, users: async function* () { yield UID; yield 'nobody'; } }, undefined);
    expect(report.ok).toBe(true);
    expect(report.users.map((u) => [u.uid, u.snapshots])).toEqual([[UID, 2], ['nobody', 0]]);
  });
});

describe('a content blob', () => {
  it('lost, that the device no longer has: the snapshot stays marked, the entry relying on it is dropped', async () => {
    const { h, s1 } = await setup();
    const lost = await blobOf(h, s1, 'deviceInfo');
    await h.deps.blobs.delete(blobKey(UID, lost));
    const found = only(await check(h));
    expect(found).toMatchObject({ kind: 'missing-blob', ref: lost, snapshots: [s1.id], items: [{ type: 'deviceInfo', sourceId: 'deviceInfo' }], itemCount: 1, indexEntries: [indexKey('deviceInfo', D1)], remains: true });
    const { repaired, second } = await repairAndBackUp(h);
    expect(repaired.repair).toMatchObject({ droppedIndexEntries: 1, quarantinedBlobs: 0, markedSnapshots: 1, stoppedEarly: false });
    expect(only(repaired)).toMatchObject({ remains: true, repaired: { droppedIndexEntries: 1, quarantined: false } });
    expect(repaired.ok).toBe(false);
    // Really lost: S1 keeps its mark; nothing relies on the blob any more.
    expect(only(second)).toMatchObject({ kind: 'missing-blob', ref: lost, snapshots: [s1.id], indexEntries: [] });
    expect((await h.store.getSnapshot(s1.id))?.health).toMatchObject({ ok: false, problems: 1 });
    expect((await h.store.getSnapshot(s1.id))?.health?.manifestDamaged).toBeUndefined();
  });

  it('lost, that the next backup still has: stored again, and every snapshot is whole', async () => {
    const { h, s1, s2 } = await setup();
    const pack = await blobOf(h, s1, 'c1');
    await h.deps.blobs.delete(blobKey(UID, pack));
    const found = only(await check(h));
    expect(found).toMatchObject({ kind: 'missing-blob', ref: pack, snapshots: [s2.id, s1.id], itemCount: 3, indexEntries: [indexKey('contacts', C1)] });
    expect(found.items.map((i: { sourceId: string }) => i.sourceId).sort()).toEqual(['c1', 'c2', 'c3']);
    const { next, second } = await repairAndBackUp(h);
    expect(next.missing).toEqual([sha256Hex(C1)]);
    expect(second).toMatchObject({ ok: true, problems: [] });
  });

  it('corrupt: found by a re-read only, quarantined so the next backup stores it again', async () => {
    const { h, s1, s2 } = await setup();
    const pack = await blobOf(h, s1, 'c1');
    await flip(h.deps.blobs, pack);
    expect((await check(h)).ok).toBe(true);
    expect(only(await check(h, { readDataPercent: 100 }))).toMatchObject({ kind: 'corrupt-blob', ref: pack, snapshots: [s2.id, s1.id], indexEntries: [indexKey('contacts', C1)] });
    const { repaired, second } = await repairAndBackUp(h, { readDataPercent: 100 });
    expect(repaired.repair).toMatchObject({ droppedIndexEntries: 1, quarantinedBlobs: 1 });
    expect(only(repaired).repaired).toEqual({ droppedIndexEntries: 1, quarantined: true });
    const quarantined: string[] = [];
    for await (const b of h.deps.blobs.list(`quarantine/${UID}/`)) quarantined.push(b.key);
    expect(quarantined).toEqual([expect.stringMatching(new RegExp(`^quarantine/${UID}/\\d+-${pack}$`))]);
    expect(second).toMatchObject({ ok: true, problems: [] });
  });
});

describe('a chunk result (a segment)', () => {
  it('lost: named with the snapshots and the index entry, and the next backup stores it again', async () => {
    const { h, s1, s2 } = await setup();
    const result = (await entryOf(h, 'contacts', C1)).resultRef;
    await h.deps.blobs.delete(blobKey(UID, result));
    const found = only(await check(h));
    expect(found).toMatchObject({ kind: 'missing-segment', ref: result, snapshots: [s2.id, s1.id], items: [], itemCount: 3, indexEntries: [indexKey('contacts', C1)] });
    const { repaired, second } = await repairAndBackUp(h);
    expect(repaired.damagedSnapshots.map((d) => [d.id, d.manifestDamaged])).toEqual([[s2.id, true], [s1.id, true]]);
    expect((await h.store.getSnapshot(s2.id))?.health).toMatchObject({ ok: false, problems: 1, manifestDamaged: true });
    expect(second).toMatchObject({ ok: true, problems: [] });
  });

  it('corrupt: quarantined and stored again', async () => {
    const { h, s1, s2 } = await setup();
    const result = (await entryOf(h, 'contacts', C2)).resultRef;
    await flip(h.deps.blobs, result);
    expect(only(await check(h))).toMatchObject({ kind: 'corrupt-segment', ref: result, snapshots: [s2.id], itemCount: 1, indexEntries: [indexKey('contacts', C2)] });
    const { repaired, second } = await repairAndBackUp(h);
    expect(repaired.repair).toMatchObject({ droppedIndexEntries: 1, quarantinedBlobs: 1, markedSnapshots: 1 });
    expect(second).toMatchObject({ ok: true, problems: [] });
    expect(s1.id).not.toBe(s2.id);
  });
});

describe('a manifest', () => {
  it('root lost: the device\'s next backups fail on it until the repair marks it, then take the one before as baseline', async () => {
    const { h, s1, s2 } = await setup();
    await h.deps.blobs.delete(blobKey(UID, s2.manifestRef));
    expect(only(await check(h))).toMatchObject({ kind: 'missing-manifest', ref: s2.manifestRef, snapshots: [s2.id], itemCount: s2.totals.items, indexEntries: [] });
    const failed = await backup(h, B);
    expect(failed.job).toMatchObject({ status: 'failed', lastError: { message: expect.stringContaining(s2.manifestRef) } });
    const { next, second } = await repairAndBackUp(h);
    expect(next.snapshot?.parentId).toBe(s1.id);
    // The next backup wrote the same root again: S2 is whole, and stays marked until a verify.
    expect(second).toMatchObject({ ok: true, problems: [] });
    expect((await h.store.getSnapshot(s2.id))?.health).toMatchObject({ ok: false, manifestDamaged: true });
    // A repair clears the mark of a manifest it read whole.
    expect((await check(h, { repair: true })).repair).toMatchObject({ clearedMarks: 1 });
    expect((await h.store.getSnapshot(s2.id))?.health?.manifestDamaged).toBeUndefined();
  });

  it('root corrupt: quarantined, marked, and stored again by the next backup', async () => {
    const { h, s2 } = await setup();
    await flip(h.deps.blobs, s2.manifestRef);
    expect(only(await check(h))).toMatchObject({ kind: 'corrupt-manifest', ref: s2.manifestRef, snapshots: [s2.id] });
    const { repaired, second } = await repairAndBackUp(h);
    expect(repaired.repair).toMatchObject({ quarantinedBlobs: 1, markedSnapshots: 1 });
    expect(second.ok).toBe(true);
  });

  it('node lost or corrupt: the items below it are counted, and the next backup stores it again', async () => {
    const { h, s1, s2 } = await setup();
    // Nodes of S2's own (its contacts and device info trees), not the chats one S1 shares.
    const node = await objectOf(h, s2, 'node', 0, s1);
    await h.deps.blobs.delete(blobKey(UID, node));
    const found = only(await check(h));
    expect(found).toMatchObject({ kind: 'missing-node', ref: node, snapshots: [s2.id], indexEntries: [] });
    expect(found.itemCount).toBeGreaterThan(0);
    expect((await repairAndBackUp(h)).second.ok).toBe(true);

    const again = await setup();
    const other = await objectOf(again.h, again.s2, 'node', 1, again.s1);
    await flip(again.h.deps.blobs, other);
    expect(only(await check(again.h))).toMatchObject({ kind: 'corrupt-node', ref: other, snapshots: [again.s2.id] });
    expect((await repairAndBackUp(again.h)).second.ok).toBe(true);
  });

  it('chat watermarks lost: both snapshots that share them are named', async () => {
    const { h, s1, s2 } = await setup();
    const marks = await objectOf(h, s2, 'watermarks');
    await h.deps.blobs.delete(blobKey(UID, marks));
    expect(only(await check(h))).toMatchObject({ kind: 'missing-watermarks', ref: marks, snapshots: [s2.id, s1.id], indexEntries: [] });
    expect((await repairAndBackUp(h)).second.ok).toBe(true);
  });
});

describe('a chunk-index entry', () => {
  const replace = async (h: Harness, entry: ChunkIndexEntry, changed: Record<string, unknown>) => {
    await h.store.deleteChunkIndex(UID, [entry.key]);
    await h.store.putChunkIndex({ ...entry, ...changed } as ChunkIndexEntry);
  };

  it('naming a result that is not there: the next backup of its chunk would rely on nothing; the repair drops it', async () => {
    const { h } = await setup();
    const entry = await entryOf(h, 'contacts', C2);
    const flipped = `${entry.resultRef.slice(0, 10)}${entry.resultRef[10] === '0' ? '1' : '0'}${entry.resultRef.slice(11)}`;
    await replace(h, entry, { resultRef: flipped });
    const found = only(await check(h));
    expect(found).toMatchObject({ kind: 'missing-segment', ref: flipped, snapshots: [], indexEntries: [entry.key] });
    const { repaired, next, second } = await repairAndBackUp(h);
    expect(repaired).toMatchObject({ ok: true, repair: { droppedIndexEntries: 1, markedSnapshots: 0 } });
    expect(only(repaired)).toMatchObject({ remains: false });
    expect(next.missing).toEqual([sha256Hex(C2)]);
    expect(second).toMatchObject({ ok: true, problems: [] });
  });

  it('that does not parse, or names another chunk\'s result: corrupt, dropped', async () => {
    const { h } = await setup();
    const c2 = await entryOf(h, 'contacts', C2);
    const info = await entryOf(h, 'deviceInfo', D2);
    await replace(h, c2, { items: -1 });
    await replace(h, info, { resultRef: (await entryOf(h, 'deviceInfo', D1)).resultRef });
    const report = await check(h);
    expect(report.problems.map((p) => [p.kind, p.ref, p.indexEntries])).toEqual(
      expect.arrayContaining([['corrupt-index-entry', c2.key, [c2.key]], ['corrupt-index-entry', info.key, [info.key]]]),
    );
    expect(report.problems).toHaveLength(2);
    const { repaired, second } = await repairAndBackUp(h);
    expect(repaired).toMatchObject({ ok: true, repair: { droppedIndexEntries: 2 } });
    expect(second).toMatchObject({ ok: true, problems: [] });
  });

  it('deleted: nothing breaks (the next backup sends the chunk again); the result is counted as unindexed', async () => {
    const { h } = await setup();
    const entry = await entryOf(h, 'contacts', C2);
    await h.store.deleteChunkIndex(UID, [entry.key]);
    expect(await check(h)).toMatchObject({ ok: true, problems: [], unindexedResults: 1 });
    const next = await backup(h, B);
    expect(next.missing).toEqual([sha256Hex(C2)]);
    expect(await check(h)).toMatchObject({ ok: true, unindexedResults: 0 });
  });
});

describe('a snapshot record', () => {
  const rewrite = async (h: Harness, snapshot: Snapshot, changed: Record<string, unknown>) =>
    h.store.runTransaction(async (tx) => tx.setSnapshot({ ...snapshot, ...changed } as Snapshot));

  it('whose manifest reference has a flipped digit: its manifest is missing; marked, and the next backup succeeds', async () => {
    const { h, s1, s2 } = await setup();
    const flipped = `${s2.manifestRef.slice(0, 5)}${s2.manifestRef[5] === 'a' ? 'b' : 'a'}${s2.manifestRef.slice(6)}`;
    await rewrite(h, s2, { manifestRef: flipped });
    expect(only(await check(h))).toMatchObject({ kind: 'missing-manifest', ref: flipped, snapshots: [s2.id] });
    const { next, second } = await repairAndBackUp(h);
    expect(next.snapshot?.parentId).toBe(s1.id);
    expect(only(second)).toMatchObject({ kind: 'missing-manifest', snapshots: [s2.id], remains: true });
    expect((await h.store.getSnapshot(s2.id))?.health).toMatchObject({ ok: false, manifestDamaged: true });
  });

  it('that does not parse, or names another snapshot\'s manifest: corrupt', async () => {
    const { h, s1, s2 } = await setup();
    await rewrite(h, s2, { totals: { ...s2.totals, items: -5 } });
    await rewrite(h, s1, { manifestRef: s2.manifestRef });
    const report = await check(h);
    expect(report.problems.map((p) => [p.kind, p.ref, p.snapshots])).toEqual([
      ['corrupt-snapshot-record', s2.id, [s2.id]],
      ['corrupt-snapshot-record', s1.id, [s1.id]],
    ]);
    const { repaired } = await repairAndBackUp(h);
    // The record that does not parse is left as it is; the other is marked.
    expect(repaired.repair).toMatchObject({ markedSnapshots: 1 });
  });
});

describe('a repair while backups run', () => {
  it('holds the GC lease while it deletes: a backup step is turned away, retryable', async () => {
    let h: Harness | undefined;
    const seen: string[] = [];
    const fenced = (inner: MemoryBlobStore): BlobStore => ({
      put: async (key: string, body: Uint8Array | AsyncIterable<Uint8Array>, options?: PutOptions) => {
        if (key.startsWith('quarantine/') && h) {
          const { job } = await h.call('createBackupJob', UID, { deviceId: 'phone-2', types: ['contacts'] });
          await h.call('registerChunks', UID, { jobId: job.id, chunks: [describeChunk('contacts', C1, 3)] }).catch((err: { code?: string; details?: { reason?: string } }) => seen.push(`${err.code}:${err.details?.reason}`));
        }
        return inner.put(key, body, options);
      },
      get: (key, options) => inner.get(key, options),
      stat: (key, options) => inner.stat(key, options),
      exists: (key, options) => inner.exists(key, options),
      delete: (key, options) => inner.delete(key, options),
      list: (prefix, options) => inner.list(prefix, options),
    });
    const setupResult = await setup(fenced);
    h = setupResult.h;
    await flip(h.deps.blobs, (await entryOf(h, 'contacts', C1)).resultRef);
    const repaired = await check(h, { repair: true });
    expect(repaired.repair).toMatchObject({ quarantinedBlobs: 1 });
    expect(seen).toEqual(['unavailable:gc-in-progress']);
    let leases = 0;
    for await (const _ of h.deps.blobs.list(`leases/${UID}/`)) leases += 1;
    expect(leases).toBe(0);
  });

  it('leaves alone what changed since the check: a result written again keeps its entry', async () => {
    let lost: { key: string; bytes: Uint8Array } | null = null;
    const restoring = (inner: MemoryBlobStore): BlobStore => ({
      put: async (key: string, body: Uint8Array | AsyncIterable<Uint8Array>, options?: PutOptions) => {
        const result = await inner.put(key, body, options);
        // A backup stores the result again between the check and the repair (as the lease is taken).
        if (key.startsWith(`leases/${UID}/`) && lost && options?.ifAbsent) {
          await inner.put(lost.key, lost.bytes);
          lost = null;
        }
        return result;
      },
      get: (key, options) => inner.get(key, options),
      stat: (key, options) => inner.stat(key, options),
      exists: (key, options) => inner.exists(key, options),
      delete: (key, options?: CallOptions) => inner.delete(key, options),
      list: (prefix, options) => inner.list(prefix, options),
    });
    const setupResult = await setup(restoring);
    const h = setupResult.h;
    const entry = await entryOf(h, 'contacts', C1);
    const key = blobKey(UID, entry.resultRef);
    lost = { key, bytes: await readAll(await h.deps.blobs.get(key)) };
    await h.deps.blobs.delete(key);
    const repaired = await check(h, { repair: true });
    expect(repaired.repair).toMatchObject({ droppedIndexEntries: 0, alreadyFixed: 1 });
    expect(await h.store.getChunkIndex(UID, [entry.key])).toEqual([entry]);
    expect(await check(h)).toMatchObject({ ok: true });
  });
});
