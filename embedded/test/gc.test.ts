/**
 * Garbage collection through the embedded runtime: backups with the SDK, retention forgetting the
 * oldest snapshot, and the GC run after each backup freeing exactly its unshared blobs on disk.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackupClient } from '@lifeboat/client-sdk';
import { collectGarbage, contentStoreOf, loadManifest, manifestObjects, verifySnapshot } from '@lifeboat/engine/core';
import { silentLogger } from '@lifeboat/engine/ports';
import { createToken } from '../src/auth/tokens';
import { demoContacts, demoDeviceInfo } from '../src/demo-data';
import { startEmbeddedRuntime, type EmbeddedRuntime } from '../src/runtime';

let dir: string;
let runtime: EmbeddedRuntime;
const client = () => createBackupClient({ baseUrl: runtime.url, getToken: () => createToken('s', { uid: 'gina' }), deviceId: 'p' });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-gc-'));
  runtime = await startEmbeddedRuntime({
    dataDir: join(dir, 'data'),
    port: 0,
    logger: silentLogger,
    tokenSecret: 's',
    gcAfterBackup: { graceMs: 0, minIntervalMs: 0 },
    // The GC run after one backup may hold the user's lease while the next backup's first step
    // runs; that step is turned away and retried (docs/invariants.md, "Garbage collection"). Short
    // delays keep the retry from waiting the production 30 s.
    retryPolicy: { delaysSeconds: [0.05, 0.1, 0.2, 0.5, 1], jitter: 0 },
  });
});

afterAll(async () => {
  await runtime.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function blobKeys(): Promise<string[]> {
  const out: string[] = [];
  for await (const b of runtime.deps.blobs.list('users/gina/blobs/')) out.push(b.key.slice(b.key.lastIndexOf('/') + 1));
  return out.sort();
}

describe('garbage collection, embedded', () => {
  it('after the fourth backup forgets the first snapshot, exactly its unshared blobs leave the disk', async () => {
    const c = client();
    const snapshotIds: string[] = [];
    for (let seed = 1; seed <= 4; seed++) {
      // Seeds differ in their contacts; the device info is shared by every snapshot.
      const started = await c.startBackup({ types: ['contacts', 'deviceInfo'], sources: { contacts: demoContacts({ contacts: 60, seed }), deviceInfo: demoDeviceInfo() } });
      const job = await c.waitForJob(started.jobId, { intervalMs: 20 });
      snapshotIds.push(job.snapshotId as string);
    }
    const surviving = (await runtime.deps.store.listSnapshots({ uid: 'gina' })).items;
    expect(surviving.map((s) => s.id).sort()).toEqual(snapshotIds.slice(1).sort());

    const content = contentStoreOf(runtime.deps);
    const needed = new Set<string>();
    for (const s of surviving) {
      for await (const object of manifestObjects(content, s)) needed.add(object.ref);
      for (const item of (await loadManifest(content, s)).items) if (item.blob) needed.add(item.blob);
      for (const chunk of (await runtime.deps.store.listChunks(s.jobId, { limit: 500 })).items) if (chunk.resultRef) needed.add(chunk.resultRef);
      expect((await verifySnapshot(runtime.deps, s)).problems).toEqual([]);
    }
    // The job shows completed before its finalize task (and the GC run that follows it) returns.
    const want = [...needed].sort();
    for (let i = 0; i < 100 && JSON.stringify(await blobKeys()) !== JSON.stringify(want); i++) await new Promise((r) => setTimeout(r, 50));
    expect(await blobKeys()).toEqual(want);

    // A dry run afterwards finds nothing more; nothing was left in uploads or leases.
    const dry = await collectGarbage(runtime.deps, 'gina', { graceMs: 0, dryRun: true });
    expect(dry).toMatchObject({ status: 'done', liveSnapshots: 3, deletedBlobs: 0, deletedIndexEntries: 0 });
    const leftovers: string[] = [];
    for await (const b of runtime.deps.blobs.list('uploads/gina/')) leftovers.push(b.key);
    for await (const b of runtime.deps.blobs.list('leases/gina/')) leftovers.push(b.key);
    expect(leftovers).toEqual([]);
  });
});
