/**
 * Large files end to end through the embedded runtime: a file over the chunk limit is streamed in
 * parts from disk, stored as one blob per part, restored by joining the parts, and deduplicated
 * on the next run. Limits are scaled down (256 KiB parts) so the test stays small; the 1 GB run
 * is in `npm run bench`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contentStoreOf, restoredBytes, restoreItems, verifySnapshot, type ManifestItem, type Snapshot } from '@lifeboat/engine/core';
import { silentLogger } from '@lifeboat/engine/ports';
import { createToken } from '../../embedded/src/auth/tokens';
import { startEmbeddedRuntime, type EmbeddedRuntime } from '../../embedded/src/runtime';
import type { HttpPort } from '../src';
import { createBackupClient, nodeFileSource, nodeHttp } from '../src/node';
import type { FileSource } from '../src/ports';

const SECRET = 'e2e-large-file';
const KIB = 1024;
const PIECE = 256 * KIB;
let dir: string;
let runtime: EmbeddedRuntime;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-e2e-large-'));
  runtime = await startEmbeddedRuntime({ dataDir: join(dir, 'data'), port: 0, logger: silentLogger, tokenSecret: SECRET, schedulerIntervalMs: 0, gcAfterBackup: false });
});

afterAll(async () => {
  await runtime.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Counts the bytes of every PUT body and the most in flight at once, over the Node default transport. */
function meteredHttp() {
  const inner = nodeHttp();
  const stats = { putBytes: 0, inFlight: 0, maxInFlight: 0, inFlightBytes: 0, maxInFlightBytes: 0 };
  const http: HttpPort = {
    async request(req) {
      if (req.method !== 'PUT') return inner.request(req);
      const size = req.body?.byteLength ?? 0;
      stats.putBytes += size;
      stats.inFlight += 1;
      stats.inFlightBytes += size;
      stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
      stats.maxInFlightBytes = Math.max(stats.maxInFlightBytes, stats.inFlightBytes);
      try {
        return await inner.request(req);
      } finally {
        stats.inFlight -= 1;
        stats.inFlightBytes -= size;
      }
    },
  };
  return { http, stats };
}

/** Records each read's length and the scratch buffers the SDK offered. */
function readsOf(inner: FileSource) {
  const reads: number[] = [];
  const scratch = new Set<ArrayBufferLike>();
  const source: FileSource = {
    async open(path) {
      const file = await inner.open(path);
      return {
        size: file.size,
        close: () => file.close(),
        read: (offset, length, into) => {
          reads.push(length);
          if (into) scratch.add(into.buffer);
          return file.read(offset, length, into);
        },
      };
    },
  };
  return { source, reads, scratch };
}

function deviceFor(uid: string, extra: { http?: HttpPort; fileSource?: FileSource } = {}) {
  const token = createToken(SECRET, { uid });
  return createBackupClient({
    baseUrl: runtime.url,
    getToken: () => token,
    deviceId: `${uid}-phone`,
    uploadPieceSize: PIECE,
    maxMediaChunkBytes: 512 * KIB,
    mediaPartBytes: PIECE,
    fileSource: extra.fileSource ?? nodeFileSource(),
    ...(extra.http ? { http: extra.http } : {}),
  });
}

/** Joins a file's parts in offset order; fails on a gap or overlap, as a restore must. */
async function restoredFiles(snapshot: Snapshot): Promise<Map<string, Buffer>> {
  const parts = new Map<string, Array<{ item: ManifestItem; bytes: Uint8Array }>>();
  for await (const restored of restoreItems(contentStoreOf(runtime.deps), snapshot)) {
    const { item } = restored;
    expect(item.skipReason).toBeUndefined();
    parts.set(item.sourceId, [...(parts.get(item.sourceId) ?? []), { item, bytes: (await restoredBytes(restored)) as Uint8Array }]);
  }
  const files = new Map<string, Buffer>();
  for (const [sourceId, list] of parts) {
    list.sort((a, b) => (a.item.segment?.offset ?? 0) - (b.item.segment?.offset ?? 0));
    let at = 0;
    for (const [index, { item, bytes }] of list.entries()) {
      // A file in parts: every part says where it goes; a whole file has no segment.
      if (list.length > 1) expect(item.segment).toEqual({ index, offset: at, fileSize: expect.any(Number) });
      at += bytes.byteLength;
    }
    if (list.length > 1) expect(at).toBe(list[0]?.item.segment?.fileSize);
    files.set(sourceId, Buffer.concat(list.map((p) => p.bytes)));
  }
  return files;
}

describe('large media files end to end', () => {
  it('streams a file in parts, restores it byte for byte by joining the parts, and dedups the next run', async () => {
    const video = randomBytes(1700 * KIB + 123);
    const photo = randomBytes(100 * KIB);
    writeFileSync(join(dir, 'video.mp4'), video);
    writeFileSync(join(dir, 'notes.bin'), photo);
    const { http, stats } = meteredHttp();
    const { source, reads, scratch } = readsOf(nodeFileSource());
    const device = deviceFor('alice', { http, fileSource: source });
    const media = [
      { sourceId: 'DCIM/VID_0001.mp4', name: 'VID_0001.mp4', mimeType: 'video/mp4', path: join(dir, 'video.mp4') },
      { sourceId: 'Documents/notes.bin', name: 'notes.bin', path: join(dir, 'notes.bin') },
    ];
    const started = await device.startBackup({ types: ['media'], sources: { media } });
    expect(started.chunks).toBe(8); // 7 parts of 256 KiB (less the envelope) + one whole small file
    expect(started.bytesUploaded).toBe(started.bytesTotal);
    expect(stats.putBytes).toBe(started.bytesTotal);
    // Memory: no read and no request body bigger than one piece, nor more than a piece in flight.
    expect(Math.max(...reads)).toBeLessThanOrEqual(PIECE);
    expect(stats.maxInFlightBytes).toBeLessThanOrEqual(PIECE);
    // Reads go into reused buffers (one per file hashed, one per chunk upload), not one per piece.
    expect(scratch.size).toBeLessThanOrEqual(2 + started.chunks);
    expect(reads.length).toBeGreaterThan(scratch.size);

    const job = await device.waitForJob(started.jobId, { intervalMs: 20 });
    expect(job).toMatchObject({ status: 'completed', lastError: null, progress: { processedItems: 8, skippedItems: 0 } });
    const snapshot = (await runtime.deps.store.getSnapshot(job.snapshotId as string)) as Snapshot;
    const files = await restoredFiles(snapshot);
    expect(files.get('DCIM/VID_0001.mp4')?.equals(video)).toBe(true);
    expect(files.get('Documents/notes.bin')?.equals(photo)).toBe(true);
    expect((await verifySnapshot(runtime.deps, snapshot)).ok).toBe(true);
    // The SDK's restore joins the parts through one writer per file.
    const written = new Map<string, Buffer[]>();
    await device.restore({
      snapshotId: snapshot.id,
      sink: { open: (item) => ({ write: (bytes) => { written.set(item.sourceId, [...(written.get(item.sourceId) ?? []), Buffer.from(bytes)]); }, close: () => undefined }) },
    });
    expect(Buffer.concat(written.get('DCIM/VID_0001.mp4') ?? []).equals(video)).toBe(true);
    expect(Buffer.concat(written.get('Documents/notes.bin') ?? []).equals(photo)).toBe(true);
    // One item per plan page: a file's parts arrive on different pages and still share one writer.
    const paged = new Map<string, Buffer[]>();
    const opened: string[] = [];
    await device.restore({
      snapshotId: snapshot.id,
      pageSize: 1,
      sink: { open: (item) => (opened.push(item.sourceId), { write: (bytes) => { paged.set(item.sourceId, [...(paged.get(item.sourceId) ?? []), Buffer.from(bytes)]); }, close: () => undefined }) },
    });
    expect(opened.sort()).toEqual([...written.keys()].sort());
    expect(Buffer.concat(paged.get('DCIM/VID_0001.mp4') ?? []).equals(video)).toBe(true);

    const again = await device.startBackup({ types: ['media'], sources: { media } });
    expect(again.bytesUploaded).toBe(0);
    expect(again.bytesDeduplicated).toBe(again.bytesTotal);
    expect((await device.waitForJob(again.jobId, { intervalMs: 20 })).status).toBe('completed');
  });

  it('does not send a file over maxMediaSizeMB: one empty part, recorded as skipped', async () => {
    writeFileSync(join(dir, 'big.mov'), randomBytes(1200 * KIB));
    const { http, stats } = meteredHttp();
    const device = deviceFor('bob', { http });
    const started = await device.startBackup({
      types: ['media'],
      options: { maxMediaSizeMB: 1 },
      sources: { media: [{ sourceId: 'big.mov', name: 'big.mov', path: join(dir, 'big.mov') }] },
    });
    expect(started.chunks).toBe(1);
    expect(stats.putBytes).toBeLessThan(200);
    const job = await device.waitForJob(started.jobId, { intervalMs: 20 });
    expect(job).toMatchObject({ status: 'completed', progress: { skippedItems: 1 } });
    const items = [];
    for await (const restored of restoreItems(contentStoreOf(runtime.deps), (await runtime.deps.store.getSnapshot(job.snapshotId as string)) as Snapshot)) items.push(restored.item);
    expect(items).toEqual([expect.objectContaining({ sourceId: 'big.mov', blob: null, originalSize: 1200 * KIB, skipReason: 'larger than 1 MB' })]);
  });
});
