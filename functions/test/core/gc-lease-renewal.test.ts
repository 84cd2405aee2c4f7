/**
 * Short GC leases, renewed while the run works (issue 17, item 4): a crashed run blocks its user's
 * backups for one lease (a minute), not 15; a long run keeps its lease alive for as long as it
 * works and deletes only while it holds it; a run whose renewal fails or lands late stops
 * deleting; an aborted run (Ctrl-C, runtime stop) releases its lease. Fake clock throughout.
 */
import { ContentStore } from '../../src/core/content-store';
import { collectGarbage } from '../../src/core/snapshots/gc';
import { DEFAULT_GC_LEASE_MS, GC_RETRY_AFTER_MS, gcLeasePrefix, HeldGcLease, liveGcLeases } from '../../src/core/snapshots/gc-lease';
import type { BlobInfo, BlobStore, CallOptions, GetOptions, PutOptions } from '../../src/ports';
import { contactsChunk, createHarness, describeChunk, type Harness } from '../fakes/engine-harness';
import { MemoryBlobStore } from '../fakes/memory-blob-store';

const UID = 'alice';

/** A blob store whose calls can be slowed down (in fake time) or refused, per call and key. */
class HookedBlobStore implements BlobStore {
  beforePut: (key: string) => Promise<void> | void = () => {};
  beforeDelete: (key: string) => Promise<void> | void = () => {};
  constructor(private readonly inner: BlobStore) {}
  async put(key: string, body: Uint8Array | AsyncIterable<Uint8Array>, options?: PutOptions) {
    await this.beforePut(key);
    return this.inner.put(key, body, options);
  }
  get(key: string, options?: GetOptions) {
    return this.inner.get(key, options);
  }
  stat(key: string, options?: CallOptions) {
    return this.inner.stat(key, options);
  }
  exists(key: string, options?: CallOptions) {
    return this.inner.exists(key, options);
  }
  async delete(key: string, options?: CallOptions) {
    await this.beforeDelete(key);
    return this.inner.delete(key, options);
  }
  list(prefix: string, options?: CallOptions): AsyncIterable<BlobInfo> {
    return this.inner.list(prefix, options);
  }
}

function setup(): { h: Harness; blobs: MemoryBlobStore; hooked: HookedBlobStore } {
  let h: Harness | undefined;
  const blobs = new MemoryBlobStore({ now: () => h?.clock.now() ?? 0 });
  const hooked = new HookedBlobStore(blobs);
  h = createHarness({ blobs: hooked });
  return { h, blobs, hooked };
}

/** `n` unreferenced blobs of the user, past the grace period. */
async function orphans(h: Harness, n: number): Promise<void> {
  const content = new ContentStore(h.deps.blobs);
  for (let i = 0; i < n; i++) await content.put(UID, new TextEncoder().encode(`orphan ${i}`));
  h.clock.advance(2 * 3_600_000);
}

async function countUnder(blobs: BlobStore, prefix: string): Promise<number> {
  let n = 0;
  for await (const _ of blobs.list(prefix)) n++;
  return n;
}

async function activeJob(h: Harness): Promise<string> {
  const { job } = await h.call('createBackupJob', UID, { deviceId: 'p', types: ['contacts'] });
  await h.drain();
  return job.id;
}

const register = (h: Harness, jobId: string) => h.call('registerChunks', UID, { jobId, chunks: [describeChunk('contacts', contactsChunk(['c1']), 1)] });

describe('GC leases', () => {
  it('last a minute by default: a crashed run holds backups up for at most that; steps are asked to poll', async () => {
    expect(DEFAULT_GC_LEASE_MS).toBe(60_000);
    const { h } = setup();
    const jobId = await activeJob(h);
    const lease = await HeldGcLease.acquire(h.deps, UID); // the run crashes here: never renewed, never released
    const refused = await register(h, jobId).catch((e: { code: string; details: Record<string, unknown> }) => e);
    // A run usually releases its lease within seconds: the step is asked back in 5 s, not at the expiry.
    expect(refused).toMatchObject({ code: 'unavailable', details: { reason: 'gc-in-progress', retryAfterMs: GC_RETRY_AFTER_MS, leaseExpiresAt: lease.expiresAt } });
    h.clock.advance(58_000);
    await expect(register(h, jobId)).rejects.toMatchObject({ details: { retryAfterMs: 2000 } });
    h.clock.advance(2001);
    await expect(register(h, jobId)).resolves.toMatchObject({ missing: [expect.any(String)] });
  });

  it('a run that takes many leases long keeps its lease alive throughout, and finishes', async () => {
    const { h, hooked } = setup();
    await orphans(h, 24);
    let leaseSeenMissing = 0;
    hooked.beforeDelete = async (key) => {
      if (!key.startsWith(`users/${UID}/blobs/`)) return;
      // Each delete takes 10 s: the run lasts four minutes, four lease lifetimes.
      h.clock.advance(10_000);
      if ((await liveGcLeases(hooked, UID, h.clock.now())).length === 0) leaseSeenMissing++;
    };
    const report = await collectGarbage(h.deps, UID, { graceMs: 3_600_000 });
    expect(report).toMatchObject({ status: 'done', deletedBlobs: 24, stoppedEarly: false });
    // A backup step checking at any moment of the run would have found the lease.
    expect(leaseSeenMissing).toBe(0);
    expect(await countUnder(hooked, gcLeasePrefix(UID))).toBe(0);
  });

  it('a run whose renewal fails stops deleting at once, and releases what it holds', async () => {
    const { h, hooked } = setup();
    await orphans(h, 12);
    let renewals = 0;
    hooked.beforePut = (key) => {
      if (key.startsWith(gcLeasePrefix(UID)) && renewals++ > 0) throw new Error('bucket unavailable');
    };
    hooked.beforeDelete = (key) => {
      if (key.startsWith(`users/${UID}/blobs/`)) h.clock.advance(10_000);
    };
    const report = await collectGarbage(h.deps, UID, { graceMs: 3_600_000 });
    expect(report.stoppedEarly).toBe(true);
    expect(report.stopReason).toMatch(/renewal failed: bucket unavailable/);
    // Deleting stopped when the first renewal (due after 20 s) failed.
    expect(report.deletedBlobs).toBe(2);
    expect(await countUnder(hooked, gcLeasePrefix(UID))).toBe(0);
  });

  it('a renewal that lands after the lease could have lapsed does not count', async () => {
    const { h, hooked } = setup();
    await orphans(h, 12);
    let puts = 0;
    hooked.beforePut = (key) => {
      // The renewal's write takes 40 s: it ends past the previous expiry less the margin.
      if (key.startsWith(gcLeasePrefix(UID)) && puts++ > 0) h.clock.advance(40_000);
    };
    hooked.beforeDelete = (key) => {
      if (key.startsWith(`users/${UID}/blobs/`)) h.clock.advance(10_000);
    };
    const report = await collectGarbage(h.deps, UID, { graceMs: 3_600_000 });
    expect(report).toMatchObject({ stoppedEarly: true, deletedBlobs: 2 });
    expect(report.stopReason).toMatch(/too late/);
  });

  it('an aborted run (Ctrl-C, the runtime stopping) rejects with cancelled and leaves no lease behind', async () => {
    const { h, hooked } = setup();
    await orphans(h, 8);
    const controller = new AbortController();
    let deleted = 0;
    hooked.beforeDelete = (key) => {
      if (key.startsWith(`users/${UID}/blobs/`) && ++deleted === 3) controller.abort();
    };
    await expect(collectGarbage(h.deps, UID, { graceMs: 3_600_000, signal: controller.signal })).rejects.toMatchObject({ code: 'cancelled' });
    expect(await countUnder(hooked, gcLeasePrefix(UID))).toBe(0);
    const jobId = await activeJob(h);
    await expect(register(h, jobId)).resolves.toBeDefined();
  });

  it('stops deleting at stopAt (a function about to time out)', async () => {
    const { h, hooked } = setup();
    await orphans(h, 10);
    hooked.beforeDelete = (key) => {
      if (key.startsWith(`users/${UID}/blobs/`)) h.clock.advance(1000);
    };
    const report = await collectGarbage(h.deps, UID, { graceMs: 3_600_000, stopAt: h.clock.now() + 4500 });
    expect(report).toMatchObject({ stoppedEarly: true, stopReason: 'stopAt reached', deletedBlobs: 5 });
  });

  it('the heartbeat renews the lease on its own while the run waits on something slow', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      const { h, hooked } = setup();
      const lease = await HeldGcLease.acquire(h.deps, UID);
      lease.startHeartbeat();
      const first = lease.expiresAt;
      for (let i = 1; i <= 6; i++) {
        h.clock.advance(lease.renewEveryMs);
        await jest.advanceTimersByTimeAsync(lease.renewEveryMs);
        expect(lease.expiresAt).toBe(first + i * lease.renewEveryMs);
        expect(lease.isHeld()).toBe(true);
      }
      const [stored] = await liveGcLeases(hooked, UID, h.clock.now());
      expect(stored?.expiresAt).toBe(lease.expiresAt);
      await lease.release();
      expect(await countUnder(hooked, gcLeasePrefix(UID))).toBe(0);
      // Released: no timer writes it again.
      await jest.advanceTimersByTimeAsync(5 * lease.renewEveryMs);
      expect(await countUnder(hooked, gcLeasePrefix(UID))).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });
});
