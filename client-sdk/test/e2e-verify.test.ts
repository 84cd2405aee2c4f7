/**
 * `client.verifySnapshot` against the embedded runtime when the server verifies in rounds (issue 9
 * item 2): the callable answers with a running record, the SDK polls it to the end and gives the
 * report one whole run gives; an aborted wait leaves the verify running, and the next call joins
 * it. The runtime's clock moves on 30 s with every blob read (only while `slow` is on), so the
 * callable's 20 s and each round's 480 s run out after a few reads, as they would on Firebase
 * with a large snapshot.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blobKey, contentStoreOf, manifestItems, verifyPage, type Snapshot } from '@lifeboat/engine/core';
import { silentLogger, type BlobStore } from '@lifeboat/engine/ports';
import { createToken } from '../../embedded/src/auth/tokens';
import { startEmbeddedRuntime, type EmbeddedRuntime } from '../../embedded/src/runtime';
import type { MediaItem, VerifyProblem, VerifyProgress } from '../src';
import { createBackupClient } from '../src/node';

const SECRET = 'e2e-verify';
const KIB = 1024;
const READ_MS = 30_000;
let dir: string;
let runtime: EmbeddedRuntime;
let offset = 0;
let slow = false;

/** Every read of the blob store takes READ_MS of the runtime's clock while `slow` is on. */
function slowedReads(blobs: BlobStore): BlobStore {
  const get = blobs.get.bind(blobs);
  blobs.get = async (key, options) => {
    if (slow) offset += READ_MS;
    return get(key, options);
  };
  return blobs;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-e2e-verify-'));
  runtime = await startEmbeddedRuntime({
    dataDir: join(dir, 'data'),
    port: 0,
    logger: silentLogger,
    tokenSecret: SECRET,
    schedulerIntervalMs: 0,
    gcAfterBackup: false,
    clock: { now: () => Date.now() + offset },
    instrumentBlobs: slowedReads,
  });
});

afterAll(async () => {
  await runtime.stop();
  rmSync(dir, { recursive: true, force: true });
});

const bytesOf = (seed: number, length: number) => Uint8Array.from({ length }, (_, i) => (i * 7 + seed * 13) % 256);
const summary = (problems: ReadonlyArray<Pick<VerifyProblem, 'kind' | 'blob' | 'items' | 'message'>>) => problems.map((p) => ({ kind: p.kind, blob: p.blob, items: p.items, message: p.message }));

describe('verifySnapshot of a snapshot the server checks in rounds', () => {
  it('polls the record to the report of one whole run; an aborted wait leaves the verify to a later call', async () => {
    const token = createToken(SECRET, { uid: 'vic' });
    const device = createBackupClient({
      baseUrl: runtime.url,
      getToken: () => token,
      deviceId: 'vic-phone',
      maxMediaChunkBytes: 64 * KIB,
      mediaPartBytes: 16 * KIB,
    });
    // Twelve small files (a segment each) and a 60 KiB one in four parts.
    const media: MediaItem[] = [
      ...Array.from({ length: 12 }, (_, i) => ({ sourceId: `Documents/n${i}.bin`, name: `n${i}.bin`, mimeType: 'application/octet-stream', bytes: bytesOf(i, 1000 + i) })),
      { sourceId: 'Movies/clip.mp4', name: 'clip.mp4', mimeType: 'video/mp4', bytes: bytesOf(99, 60 * KIB) },
    ];
    const started = await device.startBackup({ types: ['media'], options: { wifiOnly: false }, sources: { media } });
    const job = await device.waitForJob(started.jobId, { intervalMs: 20 });
    expect(job.status).toBe('completed');
    const snapshot = (await runtime.deps.store.getSnapshot(job.snapshotId as string)) as Snapshot;

    // Damage: one small file's blob is gone.
    let lost: string | null = null;
    for await (const item of manifestItems(contentStoreOf(runtime.deps), snapshot)) if (item.sourceId === 'Documents/n3.bin') lost = item.blob;
    await runtime.deps.blobs.delete(blobKey('vic', lost as string));
    const whole = await verifyPage(runtime.deps, snapshot);
    expect(whole.report.problems.map((p) => [p.kind, p.items])).toEqual([['missing-blob', [{ type: 'media', sourceId: 'Documents/n3.bin' }]]]);

    slow = true;
    // The first call's wait is given up at its first progress: the verify goes on on the server.
    const controller = new AbortController();
    await expect(device.verifySnapshot(snapshot.id, { pollIntervalMs: 20, signal: controller.signal, onProgress: () => controller.abort() })).rejects.toMatchObject({ code: 'backup/aborted' });
    const running = (await device.getSnapshot(snapshot.id)).verification;
    expect(running).toMatchObject({ status: 'running' });

    const progress: VerifyProgress[] = [];
    const report = await device.verifySnapshot(snapshot.id, { pollIntervalMs: 20, onProgress: (p) => progress.push(p) });
    slow = false;
    expect(report).toMatchObject({ snapshotId: snapshot.id, ok: false, problemCount: 1, checkedItems: whole.report.checkedItems, checkedAt: running?.startedAt });
    expect(summary(report.problems)).toEqual(summary(whole.report.problems));
    // It joined the verify the aborted call started, and watched it move on to its end.
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.at(-1)).toMatchObject({ checkedSegments: progress.at(-1)?.totalSegments });
    expect(progress[0]?.checkedSegments).toBeLessThan(progress.at(-1)?.checkedSegments as number);
    const rounds = runtime.db.prepare(`SELECT COUNT(*) AS n FROM tasks WHERE queue = 'maintenance' AND id LIKE ?`).get(`verify_${snapshot.id}_%`) as { n: number };
    expect(rounds.n).toBeGreaterThanOrEqual(2);
    // health is dated by the write of the last round (when later backups may read the mark), its verify's record says when.
    const after = await device.getSnapshot(snapshot.id);
    expect(after.health).toMatchObject({ ok: false, problems: 1, checkedAt: after.verification?.updatedAt });
    expect(after.health?.checkedAt).toBeGreaterThanOrEqual(running?.startedAt as number);
  });
});
