import fc from 'fast-check';
import { ContentStore } from '../../src/core/content-store';
import { blobKey } from '../../src/core/keys';
import { ChunkResult, type BackupJob, type NodeEntry } from '../../src/core/model';
import { loadManifest } from '../../src/core/snapshots/load-manifest';
import { readNode } from '../../src/core/snapshots/manifest-tree';
import { openManifest } from '../../src/core/snapshots/snapshot-manifest';
import { collectGarbage, type GcReport } from '../../src/core/snapshots/gc';
import { acquireGcLease } from '../../src/core/snapshots/gc-lease';
import { applyRetention } from '../../src/core/snapshots/retention';
import { verifySnapshot } from '../../src/core/snapshots/verify-snapshot';
import type { BlobInfo, BlobStore, CallOptions, GetOptions, PutOptions } from '../../src/ports';
import { contactsChunk, createHarness, describeChunk, type Harness } from '../fakes/engine-harness';
import { MemoryBlobStore } from '../fakes/memory-blob-store';

const UID = 'alice';
const HOUR = 3_600_000;
const GRACE = HOUR;
const FORGET_ALL_BUT = (n: number) => ({ keepLast: n, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 });
const deviceInfo = (v: number) => new TextEncoder().encode(JSON.stringify({ model: `Pixel ${v}`, os: 'android', osVersion: '15', appVersion: '1.0.0', locale: 'en-GB' }));

/** Chunks a backup can hold: contacts chunks that share contacts across chunks, and device infos. */
const POOL = [
  { type: 'contacts' as const, bytes: contactsChunk(['c1', 'c2', 'c3']), items: 3 },
  { type: 'contacts' as const, bytes: contactsChunk(['c3', 'c4']), items: 2 },
  { type: 'contacts' as const, bytes: contactsChunk(['c5']), items: 1 },
  { type: 'contacts' as const, bytes: contactsChunk(['c1', 'c6', 'c7']), items: 3 },
  { type: 'contacts' as const, bytes: contactsChunk(['c8', 'c9']), items: 2 },
  { type: 'deviceInfo' as const, bytes: deviceInfo(1), items: 1 },
  { type: 'deviceInfo' as const, bytes: deviceInfo(2), items: 1 },
];
type PoolChunk = (typeof POOL)[number];

/**
 * Wraps a blob store so every call gives way a pseudo-random number of times first: run next to
 * each other, GC and backup steps then interleave differently on every seed.
 */
class InterleavingBlobStore implements BlobStore {
  constructor(
    private readonly inner: BlobStore,
    private readonly next: () => number,
  ) {}
  private async giveWay(): Promise<void> {
    const n = this.next() % 4;
    for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
  }
  async put(key: string, body: Uint8Array | AsyncIterable<Uint8Array>, options?: PutOptions) { await this.giveWay(); return this.inner.put(key, body, options); }
  async get(key: string, options?: GetOptions) { await this.giveWay(); return this.inner.get(key, options); }
  async stat(key: string, options?: CallOptions) { await this.giveWay(); return this.inner.stat(key, options); }
  async exists(key: string, options?: CallOptions) { await this.giveWay(); return this.inner.exists(key, options); }
  async delete(key: string, options?: CallOptions) { await this.giveWay(); return this.inner.delete(key, options); }
  async *list(prefix: string, options?: CallOptions): AsyncIterable<BlobInfo> {
    await this.giveWay();
    yield* this.inner.list(prefix, options);
  }
}

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

function gcHarness(seed = 1): { h: Harness; blobs: MemoryBlobStore } {
  let h: Harness | undefined;
  const blobs = new MemoryBlobStore({ now: () => h?.clock.now() ?? 0 });
  h = createHarness({ blobs: new InterleavingBlobStore(blobs, rng(seed)) });
  return { h, blobs };
}

const gc = (h: Harness, options: Parameters<typeof collectGarbage>[2] = {}) => collectGarbage(h.deps, UID, { graceMs: GRACE, ...options });

async function start(h: Harness): Promise<string> {
  const { job } = await h.call('createBackupJob', UID, { deviceId: 'phone-1', types: ['contacts', 'deviceInfo'] });
  return job.id;
}

/** Registers and uploads; false when a GC lease turned the device away (it tries again later). */
async function send(h: Harness, jobId: string, chunks: readonly PoolChunk[]): Promise<boolean> {
  const descriptors = chunks.map((c) => describeChunk(c.type, c.bytes, c.items));
  let missing: string[];
  try {
    ({ missing } = await h.call('registerChunks', UID, { jobId, chunks: descriptors }));
  } catch (err) {
    if ((err as { code?: string }).code === 'unavailable') return false;
    throw err;
  }
  for (const c of chunks) {
    const d = describeChunk(c.type, c.bytes, c.items);
    if (!missing.includes(d.id)) continue;
    const { uploadUrl } = await h.call('beginChunkUpload', UID, { jobId, chunkId: d.id });
    if (uploadUrl) await h.upload(uploadUrl, c.bytes);
  }
  return true;
}

async function backup(h: Harness, chunks: readonly PoolChunk[]): Promise<string> {
  const jobId = await start(h);
  await h.drain();
  if (!(await send(h, jobId, chunks))) throw new Error('unexpected GC lease');
  await h.call('commitUpload', UID, { jobId, chunkCount: new Set(chunks.map((c) => describeChunk(c.type, c.bytes, c.items).id)).size });
  await h.drain();
  return jobId;
}

async function keysUnder(blobs: BlobStore, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const b of blobs.list(prefix)) out.push(b.key);
  return out;
}

async function allJobs(h: Harness): Promise<BackupJob[]> {
  const out: BackupJob[] = [];
  let cursor: string | undefined;
  do {
    const page = await h.store.listJobs({ uid: UID, limit: 100, ...(cursor ? { cursor } : {}) });
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

/**
 * Everything a reader may still follow, computed independently of gc.ts: surviving snapshots'
 * manifests and items and their jobs' chunk results, every chunk-index entry's result and items,
 * and the results and items of every job that is not completed or cancelled.
 */
async function referenced(h: Harness, blobs: BlobStore): Promise<{ needed: Map<string, string>; core: Set<string> }> {
  const content = new ContentStore(blobs);
  const needed = new Map<string, string>();
  const core = new Set<string>();
  const resultOf = async (ref: string, why: string) => {
    needed.set(ref, why);
    const result = ChunkResult.parse(JSON.parse(new TextDecoder().decode(await content.get(UID, ref))));
    for (const item of result.items) if (item.blob) needed.set(item.blob, `${why} item ${item.sourceId}`);
  };
  for (const snapshot of (await h.store.listSnapshots({ uid: UID, limit: 100 })).items) {
    needed.set(snapshot.manifestRef, `manifest of ${snapshot.id}`);
    core.add(snapshot.manifestRef);
    for (const item of (await loadManifest(content, snapshot)).items) {
      if (item.blob) {
        needed.set(item.blob, `${snapshot.id} item ${item.sourceId}`);
        core.add(item.blob);
      }
    }
    for (const chunk of (await h.store.listChunks(snapshot.jobId, { limit: 500 })).items) if (chunk.resultRef) core.add(chunk.resultRef);
    // A segmented manifest's root names its trees' nodes, its segments and the chat watermarks.
    const opened = await openManifest(content, snapshot);
    if (opened.format === 2) {
      const walk = async (entry: NodeEntry): Promise<void> => {
        core.add(entry.ref);
        needed.set(entry.ref, `node of ${snapshot.id}`);
        const node = await readNode(content, UID, entry);
        if (node.level === 1) for (const segment of node.entries) core.add(segment.ref);
        else for (const child of node.entries as NodeEntry[]) await walk(child);
      };
      for (const { tree, watermarks } of opened.root.types) {
        if (watermarks) core.add(watermarks);
        if (tree) await walk(tree);
      }
    }
  }
  for (const entry of (await h.store.listChunkIndex({ uid: UID, limit: 500 })).items) await resultOf(entry.resultRef, `index ${entry.key}`);
  for (const job of await allJobs(h)) {
    if (job.status === 'completed' || job.status === 'cancelled') continue;
    for (const chunk of (await h.store.listChunks(job.id, { limit: 500 })).items) {
      if (chunk.resultRef) await resultOf(chunk.resultRef, `${job.status} job ${job.id} chunk`);
    }
  }
  return { needed, core };
}

/** No reader can find a blob missing: checked straight on the inner store. */
async function expectNothingDangling(h: Harness, blobs: MemoryBlobStore): Promise<void> {
  const { needed } = await referenced(h, blobs);
  const missing: string[] = [];
  for (const [hash, why] of needed) if (!(await blobs.exists(blobKey(UID, hash)))) missing.push(`${hash.slice(0, 12)} (${why})`);
  expect(missing).toEqual([]);
}

describe('garbage collection', () => {
  it('frees the blobs of forgotten snapshots once they are older than the grace period, keeping shared ones', async () => {
    const { h, blobs } = gcHarness();
    await backup(h, [POOL[0] as PoolChunk, POOL[5] as PoolChunk]);
    h.clock.advance(1000);
    await backup(h, [POOL[2] as PoolChunk, POOL[5] as PoolChunk]);
    const before = await keysUnder(blobs, `users/${UID}/blobs/`);
    await applyRetention(h.store, UID, FORGET_ALL_BUT(1));

    const early = await gc(h);
    expect(early).toMatchObject({ status: 'done', liveSnapshots: 1, deletedBlobs: 0 });
    expect(early.youngBlobs).toBeGreaterThan(0);

    h.clock.advance(GRACE + 1);
    const dry = await gc(h, { dryRun: true });
    expect(dry.deletedBlobs).toBeGreaterThan(0);
    expect(await keysUnder(blobs, `users/${UID}/blobs/`)).toEqual(before);

    const report = await gc(h);
    expect(report).toMatchObject({ status: 'done', dryRun: false, deletedBlobs: dry.deletedBlobs, deletedIndexEntries: 1, stoppedEarly: false });
    const after = await keysUnder(blobs, `users/${UID}/blobs/`);
    const { core } = await referenced(h, blobs);
    expect(after.sort()).toEqual([...core].map((hash) => blobKey(UID, hash)).sort());
    expect(after.length).toBe(before.length - report.deletedBlobs);
    const [survivor] = (await h.store.listSnapshots({ uid: UID })).items;
    expect((await verifySnapshot(h.deps, survivor as never)).ok).toBe(true);
    expect(await keysUnder(blobs, `leases/`)).toEqual([]);
  });

  it('a chunk whose result was swept is uploaded and processed again by the next backup', async () => {
    const { h, blobs } = gcHarness();
    await backup(h, [POOL[0] as PoolChunk]);
    h.clock.advance(1000);
    await backup(h, [POOL[5] as PoolChunk]);
    await applyRetention(h.store, UID, FORGET_ALL_BUT(1));
    h.clock.advance(GRACE + 1);
    expect((await gc(h)).deletedIndexEntries).toBe(1);
    const jobId = await backup(h, [POOL[0] as PoolChunk]);
    const job = await h.store.getJob(jobId);
    expect(job).toMatchObject({ status: 'completed', progress: { bytesDeduplicated: 0, bytesUploaded: POOL[0]?.bytes.byteLength } });
    expect((await verifySnapshot(h.deps, (await h.store.getSnapshot(job?.snapshotId ?? '')) as never)).ok).toBe(true);
    await expectNothingDangling(h, blobs);
  });

  it('defers while a job is active or failed within the grace period, and sweeps a quietly failed job around its chunks', async () => {
    const { h, blobs } = gcHarness();
    await backup(h, [POOL[0] as PoolChunk]);
    await applyRetention(h.store, UID, FORGET_ALL_BUT(1));
    const running = await start(h);
    await h.drain();
    await send(h, running, [POOL[1] as PoolChunk]);
    await h.drain();
    h.clock.advance(GRACE + 1);
    const deferred = await gc(h);
    expect(deferred).toMatchObject({ status: 'deferred', deferredBy: [{ jobId: running, status: 'running' }], deletedBlobs: 0 });

    // Failed: deferred while recent, then its processed chunk's result and items are kept.
    await h.store.runTransaction(async (tx) => {
      const job = await tx.getJob(running);
      if (job) tx.setJob({ ...job, status: 'failed', updatedAt: h.clock.now(), lastError: { code: 'unavailable', message: 'x', step: 'processChunk', at: h.clock.now(), retrying: false } });
    });
    expect((await gc(h)).status).toBe('deferred');
    h.clock.advance(GRACE + 1);
    expect((await gc(h)).status).toBe('done');
    await expectNothingDangling(h, blobs);
    await h.call('retryBackup', UID, { jobId: running });
    await h.drain();
    await h.call('commitUpload', UID, { jobId: running, chunkCount: 1 });
    await h.drain();
    const job = await h.store.getJob(running);
    expect(job?.status).toBe('completed');
    expect((await verifySnapshot(h.deps, (await h.store.getSnapshot(job?.snapshotId ?? '')) as never)).ok).toBe(true);
  });

  it('turns a backup step away with unavailable while a lease is live, and not after it expires', async () => {
    const { h } = gcHarness();
    const jobId = await start(h);
    await h.drain();
    await acquireGcLease(h.deps.blobs, UID, h.clock.now(), 60_000);
    await expect(h.call('registerChunks', UID, { jobId, chunks: [describeChunk('contacts', POOL[0]?.bytes ?? new Uint8Array(), 3)] })).rejects.toMatchObject({
      code: 'unavailable',
      details: { reason: 'gc-in-progress' },
    });
    h.clock.advance(60_001);
    expect(await send(h, jobId, [POOL[0] as PoolChunk])).toBe(true);
  });

  it('stops sweeping when a manifest of a surviving snapshot cannot be read', async () => {
    const { h, blobs } = gcHarness();
    const jobId = await backup(h, [POOL[0] as PoolChunk]);
    const snapshot = await h.store.getSnapshot(`snap_${jobId}`);
    await blobs.delete(blobKey(UID, snapshot?.manifestRef ?? ''));
    h.clock.advance(GRACE + 1);
    const before = await keysUnder(blobs, `users/${UID}/blobs/`);
    await expect(gc(h)).rejects.toMatchObject({ code: 'failed-precondition' });
    expect(await keysUnder(blobs, `users/${UID}/blobs/`)).toEqual(before);
    expect(await keysUnder(blobs, 'leases/')).toEqual([]);
  });

  it('a backup that starts while GC sweeps never ends up naming a blob GC deleted (every interleaving point)', async () => {
    let turnedAway = 0;
    for (let delay = 0; delay < 40; delay++) {
      const { h, blobs } = gcHarness(delay + 1);
      await backup(h, [POOL[0] as PoolChunk, POOL[3] as PoolChunk]);
      h.clock.advance(1000);
      await backup(h, [POOL[5] as PoolChunk]);
      await applyRetention(h.store, UID, FORGET_ALL_BUT(1));
      h.clock.advance(GRACE + 1);
      let jobId = '';
      let sent = false;
      await Promise.all([
        gc(h),
        (async () => {
          for (let i = 0; i < delay; i++) await new Promise<void>((r) => setImmediate(r));
          jobId = await start(h);
          await h.drain();
          sent = await send(h, jobId, [POOL[0] as PoolChunk, POOL[3] as PoolChunk]);
          await h.drain();
        })(),
      ]);
      await expectNothingDangling(h, blobs);
      if (!sent) {
        turnedAway += 1;
        expect(await send(h, jobId, [POOL[0] as PoolChunk, POOL[3] as PoolChunk])).toBe(true);
      }
      await h.call('commitUpload', UID, { jobId, chunkCount: 2 });
      await h.drain();
      const job = await h.store.getJob(jobId);
      expect(job?.status).toBe('completed');
      expect((await verifySnapshot(h.deps, (await h.store.getSnapshot(job?.snapshotId ?? '')) as never)).problems).toEqual([]);
    }
    // Some interleavings put the device's call inside the GC run: the lease turned it away.
    expect(turnedAway).toBeGreaterThan(0);
  });

  /**
   * The property: random interleavings of backups (some left running, some cancelled), retention
   * and GC runs, with GC racing the device's calls and the queue's steps. After every step no
   * surviving snapshot, chunk-index entry or unfinished job names a missing blob; at the end every
   * backup still completes and verifies, and a last GC leaves exactly the referenced blobs.
   */
  it('never removes a blob that a surviving snapshot, an index entry or an unfinished job references; removes the rest', async () => {
    const chunkSet = fc.uniqueArray(fc.integer({ min: 0, max: POOL.length - 1 }), { minLength: 1, maxLength: 3 }).map((ix) => ix.map((i) => POOL[i] as PoolChunk));
    const op = fc.oneof(
      fc.record({ kind: fc.constant('start' as const), chunks: chunkSet, withGc: fc.boolean(), delay: fc.integer({ min: 0, max: 12 }) }),
      fc.record({ kind: fc.constant('send' as const), which: fc.nat(), withGc: fc.boolean() }),
      fc.record({ kind: fc.constant('commit' as const), which: fc.nat(), withGc: fc.boolean() }),
      fc.record({ kind: fc.constant('cancel' as const), which: fc.nat() }),
      fc.record({ kind: fc.constant('retention' as const), keepLast: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ kind: fc.constant('gc' as const) }),
      fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 2 * GRACE }) }),
    );
    let sweptSomething = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 4, maxLength: 24 }), fc.integer({ min: 1, max: 2 ** 31 - 1 }), async (ops, seed) => {
        const { h, blobs } = gcHarness(seed);
        const backups: Array<{ jobId: string; chunks: readonly PoolChunk[]; sent: boolean; committed: boolean; cancelled: boolean }> = [];
        const reports: GcReport[] = [];
        const runGc = async () => reports.push(await gc(h));
        const pick = (n: number) => backups.filter((b) => !b.cancelled && !b.committed)[n % Math.max(1, backups.length)];

        for (const o of ops) {
          if (o.kind === 'start') {
            // A backup that starts while GC runs: created after GC looked at the jobs, it must
            // be turned away by the lease before it reuses anything GC is about to delete.
            const b = { jobId: '', chunks: o.chunks, sent: false, committed: false, cancelled: false };
            const step = async () => {
              for (let i = 0; i < o.delay; i++) await new Promise<void>((r) => setImmediate(r));
              b.jobId = await start(h);
              backups.push(b);
              await h.drain();
              b.sent = await send(h, b.jobId, b.chunks);
              await h.drain();
            };
            await Promise.all([step(), o.withGc ? runGc() : Promise.resolve()]);
          } else if (o.kind === 'send' || o.kind === 'commit') {
            const b = pick(o.which);
            if (!b) continue;
            const step = async () => {
              if (!b.sent) b.sent = await send(h, b.jobId, b.chunks);
              if (o.kind === 'commit' && b.sent) {
                await h.call('commitUpload', UID, { jobId: b.jobId, chunkCount: new Set(b.chunks.map((c) => describeChunk(c.type, c.bytes, c.items).id)).size });
                b.committed = true;
              }
              await h.drain();
            };
            await Promise.all([step(), o.withGc ? runGc() : Promise.resolve()]);
          } else if (o.kind === 'cancel') {
            const b = pick(o.which);
            if (!b) continue;
            await h.call('cancelBackup', UID, { jobId: b.jobId });
            b.cancelled = true;
          } else if (o.kind === 'retention') {
            await applyRetention(h.store, UID, FORGET_ALL_BUT(o.keepLast));
          } else if (o.kind === 'gc') {
            await runGc();
          } else {
            h.clock.advance(o.ms);
          }
          await expectNothingDangling(h, blobs);
        }

        // Every backup left running still completes and verifies; failed ones (their steps ran
        // out of retries behind a lease) are retried as a user would.
        for (const b of backups.filter((x) => !x.cancelled)) {
          for (let round = 0; round < 3; round++) {
            const job = await h.store.getJob(b.jobId);
            if (job?.status === 'completed') break;
            if (job?.status === 'failed') await h.call('retryBackup', UID, { jobId: b.jobId });
            await h.drain();
            if (!b.sent) b.sent = await send(h, b.jobId, b.chunks);
            if (!b.committed) {
              await h.call('commitUpload', UID, { jobId: b.jobId, chunkCount: new Set(b.chunks.map((c) => describeChunk(c.type, c.bytes, c.items).id)).size });
              b.committed = true;
            }
            await h.drain();
          }
          const job = await h.store.getJob(b.jobId);
          expect(job?.status).toBe('completed');
          const snapshot = await h.store.getSnapshot(job?.snapshotId ?? '');
          if (snapshot) expect((await verifySnapshot(h.deps, snapshot)).problems).toEqual([]);
        }
        await expectNothingDangling(h, blobs);

        // With nothing running and everything past the grace period, one run leaves exactly the
        // blobs surviving snapshots need (and the chunk results that back their index entries).
        await applyRetention(h.store, UID, FORGET_ALL_BUT(1));
        h.clock.advance(GRACE + 1);
        const final = await gc(h);
        expect(final.status).toBe('done');
        if (final.deletedBlobs > 0) sweptSomething += 1;
        const { core } = await referenced(h, blobs);
        expect((await keysUnder(blobs, `users/${UID}/blobs/`)).sort()).toEqual([...core].map((hash) => blobKey(UID, hash)).sort());
        expect(await keysUnder(blobs, `uploads/${UID}/`)).toEqual([]);
        expect(reports.every((r) => r.status === 'deferred' || r.stoppedEarly === false)).toBe(true);
      }),
      { numRuns: 60 },
    );
    expect(sweptSomething).toBeGreaterThan(5);
  }, 120_000);
});
