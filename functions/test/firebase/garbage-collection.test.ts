/**
 * The `collectGarbage` schedule through its firebase-functions entry point (`.run()`), over the
 * engine on in-memory fakes: it collects the users the two finders name (snapshot owners and
 * owners of recently finished jobs), deletes only unreferenced blobs past the grace period, goes
 * on past a user whose run fails, and starts no run once too little of its timeout is left.
 */
import { contentStoreOf, DEFAULT_GC_GRACE_MS, verifySnapshot } from '../../src/core';
import { blobKey } from '../../src/core/keys';
import type { Logger } from '../../src/ports';
import { setDepsForTesting } from './test-runtime';
import { garbageCollectionSchedule, GC_LOOKBACK_MS, GC_TIMEOUT_SECONDS, runGarbageCollection } from '../../src/firebase/functions/schedules';
import { createHarness, type Harness } from '../fakes/engine-harness';
import { loadFunctionsEnv } from './function-env';
import { uploadedChunk } from './uploaded-chunk';

loadFunctionsEnv();
afterEach(() => setDepsForTesting(null));

function recordingLogger(): Logger & { lines: Array<[string, string, unknown]> } {
  const lines: Array<[string, string, unknown]> = [];
  return { lines, info: (m, f) => lines.push(['info', m, f]), warn: (m, f) => lines.push(['warn', m, f]), error: (m, f) => lines.push(['error', m, f]) };
}

/** A completed backup of alice's, plus one unreferenced blob of hers and one of bob's. */
async function withGarbage(h: Harness) {
  const { jobId } = await uploadedChunk(h);
  await h.drain();
  const content = contentStoreOf(h.deps);
  const aliceOrphan = (await content.put('alice', Buffer.from('nobody refers to this'))).hash;
  const bobOrphan = (await content.put('bob', Buffer.from('nor to this'))).hash;
  h.clock.advance(DEFAULT_GC_GRACE_MS + 60_000);
  return { jobId, snapshotId: `snap_${jobId}`, aliceOrphan, bobOrphan };
}

describe('collectGarbage schedule', () => {
  it('deletes the unreferenced blobs of the users the finders name, and keeps every snapshot whole', async () => {
    const h = createHarness();
    const logger = recordingLogger();
    h.deps.logger = logger;
    const { snapshotId, aliceOrphan, bobOrphan } = await withGarbage(h);
    const asked: number[] = [];
    setDepsForTesting({
      deps: h.deps,
      findSnapshotOwners: async (since) => (asked.push(since), ['alice']),
      findRecentJobOwners: async () => ['alice'],
    });
    await garbageCollectionSchedule().run({ scheduleTime: new Date(0).toISOString() } as never);

    expect(asked).toEqual([h.clock.now() - GC_LOOKBACK_MS]);
    expect(await h.blobs.exists(blobKey('alice', aliceOrphan))).toBe(false);
    // bob was named by no finder: his garbage waits for a run that names him.
    expect(await h.blobs.exists(blobKey('bob', bobOrphan))).toBe(true);
    const snapshot = await h.store.getSnapshot(snapshotId);
    expect(snapshot).not.toBeNull();
    const report = await verifySnapshot(h.deps, snapshot!);
    expect([report.ok, report.checkedBlobs > 0]).toEqual([true, true]);
    const summary = logger.lines.find(([, m]) => m === 'garbage collected')?.[2];
    expect(summary).toMatchObject({ users: 1, done: 1, deferred: 0, failed: 0, skipped: 0 });
    expect((summary as { deletedBlobs: number }).deletedBlobs).toBeGreaterThanOrEqual(1);
  });

  it('collects owners of finished jobs too, and goes on past a user whose run fails', async () => {
    const h = createHarness();
    const logger = recordingLogger();
    h.deps.logger = logger;
    const { bobOrphan } = await withGarbage(h);
    const brokenStore = Object.create(h.deps.store) as typeof h.deps.store;
    const listJobs = h.deps.store.listJobs.bind(h.deps.store);
    brokenStore.listJobs = async (q) => {
      if (q.uid === 'carol') throw new Error('store down for carol');
      return listJobs(q);
    };
    setDepsForTesting({
      deps: { ...h.deps, store: brokenStore },
      findSnapshotOwners: async () => ['carol'],
      findRecentJobOwners: async () => ['bob', 'carol'],
    });
    await runGarbageCollection();
    expect(await h.blobs.exists(blobKey('bob', bobOrphan))).toBe(false);
    expect(logger.lines.filter(([level]) => level === 'warn').map(([, , f]) => (f as { uid: string }).uid)).toEqual(['carol']);
    expect(logger.lines.find(([, m]) => m === 'garbage collected')?.[2]).toMatchObject({ users: 2, done: 1, failed: 1 });
  });

  it('starts no run when less than two minutes of the timeout are left', async () => {
    const h = createHarness();
    const logger = recordingLogger();
    h.deps.logger = logger;
    const { aliceOrphan } = await withGarbage(h);
    setDepsForTesting({ deps: h.deps, findSnapshotOwners: async () => ['alice'] });
    await runGarbageCollection(Date.now() - (GC_TIMEOUT_SECONDS - 100) * 1000);
    expect(await h.blobs.exists(blobKey('alice', aliceOrphan))).toBe(true);
    expect(logger.lines.find(([, m]) => m === 'garbage collected')?.[2]).toMatchObject({ users: 1, done: 0, skipped: 1 });
  });

  it('runs daily after the retention catch-up, with one retry', () => {
    const endpoint = (garbageCollectionSchedule() as unknown as { __endpoint: Record<string, any> }).__endpoint;
    expect(endpoint['scheduleTrigger']).toMatchObject({ schedule: 'every day 04:30', timeZone: 'UTC', retryConfig: { retryCount: 1 } });
    expect(endpoint['timeoutSeconds']).toMatchObject({ name: 'LIFEBOAT_COLLECT_GARBAGE_TIMEOUT_SECONDS', options: expect.objectContaining({ default: GC_TIMEOUT_SECONDS }) });
  });
});
