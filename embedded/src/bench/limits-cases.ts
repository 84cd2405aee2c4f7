/**
 * The cases of the `limits` bench (limits.ts): each is one Firebase step on one generated input,
 * checked against the memory and timeout of the function that runs it (FUNCTION_RESOURCES).
 *
 * A case has two halves, each run in its own child process by limits-child.ts:
 * - `prepare` builds the input in a case folder (a backup uploaded but not processed, a stored
 *   blob...); what it costs is not measured;
 * - `run` does the step as a Cloud Function instance would, in a process that has loaded the
 *   production module set first and runs with Firebase's malloc settings; its peak RSS is the
 *   case's figure, and each invocation's time is checked against the function's timeout.
 *
 * To add a case, add an entry to LIMIT_CASES: its prepare and run share the folder, so anything
 * the run needs (ids, hashes) goes in a file there.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import sharp from 'sharp';
import { chatChunks, createBackupClient, type MediaItem } from '@lifeboat/client-sdk';
import { nodeFileSource } from '@lifeboat/client-sdk/node';
import { API_HANDLERS, WrappedKeyRing, contentStoreOf, createDownloadToken, finalize, newJobId, processChunk, reportOfRecord, runMaintenanceTask, uploadKey, type EngineDeps, type MaintenanceTaskPayload, type SnapshotVerification, type VerifyReport } from '@lifeboat/engine/core';
import { handleDownloadRequest, type DownloadResponse } from '@lifeboat/engine/firebase/functions/download-blob';
import type { FunctionGroup } from '@lifeboat/engine/firebase/config/function-resources';
import { silentLogger, systemClock, type TaskQueue } from '@lifeboat/engine/ports';
import { STRATEGIES } from '@lifeboat/engine/strategies';
import { FolderBlobStore } from '../adapters/folder-blob-store';
import { openDatabase } from '../adapters/sqlite-database';
import { SqliteJobStore } from '../adapters/sqlite-job-store';
import { createToken } from '../auth/tokens';
import { ensureDataDir, loadMasterKeys } from '../data-dir';
import { startEmbeddedRuntime } from '../runtime';

/** What a case's run reports: the time of each invocation of the function, and a note. */
export interface CaseRun {
  /** Wall time of each invocation, ms (a task per chunk: one entry per chunk). */
  invocationsMs: number[];
  /** What happened, e.g. the items' transforms or the bytes served. */
  detail: string;
}

export interface LimitCase {
  /** Short id, used on the command line of the child. */
  id: string;
  /** What the row says. */
  label: string;
  /** The function that runs the step in production. */
  fn: FunctionGroup;
  /** Builds the input in `dir` (own process, not measured). */
  prepare(dir: string): Promise<void>;
  /** Runs the step over `dir` (own process, measured). */
  run(dir: string): Promise<CaseRun>;
}

const MB = 1_000_000;
const MIB = 1024 * 1024;
const UID = 'limits';

/** Writes `bytes` of random content in 1 MiB blocks, never holding more than one. */
async function writeRandomFile(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path);
  for (let written = 0; written < bytes; written += MIB) {
    if (!out.write(randomBytes(Math.min(MIB, bytes - written)))) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolveEnd, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolveEnd())));
}

/**
 * Backs up media through the SDK against an embedded server whose workers do not run, so the
 * chunks are uploaded (as the device would send them) and wait unprocessed; the job id goes to
 * `job.json`.
 */
async function uploadMedia(dir: string, media: MediaItem[], options: PhotoOptions = {}): Promise<void> {
  const runtime = await startEmbeddedRuntime({ dataDir: join(dir, 'data'), port: 0, logger: silentLogger, runWorkers: false, schedulerIntervalMs: 0, gcAfterBackup: false });
  try {
    const token = createToken(runtime.tokenSecret, { uid: UID });
    const client = createBackupClient({ baseUrl: runtime.url, getToken: () => token, deviceId: 'limits-phone', fileSource: nodeFileSource() });
    const { jobId } = await client.startBackup({ types: ['media'], options: { wifiOnly: false, ...options }, sources: { media } });
    writeFileSync(join(dir, 'job.json'), JSON.stringify({ jobId }));
  } finally {
    await runtime.stop();
  }
}

/** The engine over the case folder's SQLite store and blob folder, encryption on, tasks recorded and dropped. */
function benchDeps(dir: string): EngineDeps {
  const paths = ensureDataDir(join(dir, 'data'));
  const blobs = new FolderBlobStore(paths.blobs);
  const queue: TaskQueue = { enqueue: async () => ({ enqueued: true }) };
  return {
    store: new SqliteJobStore(openDatabase(paths.database)),
    blobs,
    keyRing: new WrappedKeyRing(blobs, loadMasterKeys(paths.root)),
    queue,
    uploads: { create: async () => { throw new Error('no uploads in the limits bench'); }, discardJob: async () => 0, discardUser: async () => 0 },
    notifier: { notifyDevice: async () => undefined },
    clock: systemClock,
    logger: silentLogger,
    strategies: STRATEGIES,
    newId: newJobId,
  };
}

/** processChunk for every uploaded chunk of the prepared job, one after another as one instance would. */
async function processUploaded(dir: string): Promise<CaseRun> {
  const deps = benchDeps(dir);
  const { jobId } = JSON.parse(readFileSync(join(dir, 'job.json'), 'utf8')) as { jobId: string };
  // An upload writes no chunk document (docs/invariants.md, "Progress counters"), so a chunk whose
  // bytes are in is still `pending` until processChunk takes it, as the task would.
  const chunks = (await deps.store.listChunks(jobId, { limit: 500 })).items.filter((c) => c.state === 'uploaded' || c.state === 'pending');
  // A case that processes nothing measures nothing: it fails rather than passing.
  if (chunks.length === 0) throw new Error(`job ${jobId} has no chunk waiting to be processed`);
  const invocationsMs: number[] = [];
  for (const chunk of chunks) {
    const t0 = performance.now();
    await processChunk(deps, jobId, chunk.id);
    invocationsMs.push(performance.now() - t0);
  }
  const after = (await deps.store.listChunks(jobId, { limit: 500 })).items;
  const processed = after.filter((c) => c.state === 'processed');
  const content = contentStoreOf(deps);
  const notes = new Set<string>();
  for (const chunk of processed) {
    const result = JSON.parse(new TextDecoder().decode(await content.get(UID, chunk.resultRef as string))) as { items: Array<{ transforms: string[]; warning?: string; skipReason?: string; storedSize: number }> };
    for (const item of result.items) notes.add(item.skipReason ?? [...item.transforms, ...(item.warning ? [`warning: ${item.warning}`] : [])].join(', '));
  }
  const sizes = chunks.map((c) => c.size);
  return {
    invocationsMs,
    detail: `${processed.length}/${chunks.length} chunks processed (largest ${(Math.max(0, ...sizes) / MIB).toFixed(1)} MiB): ${[...notes].join('; ')}`,
  };
}

/** A video-like file of random bytes, sent as the SDK sends it: one chunk up to 16 MiB, else parts. */
function videoCase(megabytes: number): LimitCase {
  return {
    id: `video-${megabytes}mb`,
    label: `processChunk: ${megabytes} MB video, as the SDK sends it`,
    fn: 'processChunkTask',
    async prepare(dir) {
      const file = join(dir, 'video.mp4');
      await writeRandomFile(file, megabytes * MB);
      await uploadMedia(dir, [{ sourceId: 'DCIM/video.mp4', name: 'video.mp4', mimeType: 'video/mp4', path: file }]);
    },
    run: processUploaded,
  };
}

/**
 * A photo-like JPEG: a smooth random field with grain, so it compresses like a camera's output
 * (a 48 MP one is about 10 MB at q85), with an EXIF orientation.
 */
async function writePhoto(path: string, width: number, height: number, orientation: number): Promise<void> {
  const field = await sharp({ create: { width: Math.ceil(width / 16), height: Math.ceil(height / 16), channels: 3, background: '#888', noise: { type: 'gaussian', mean: 128, sigma: 60 } } }).png().toBuffer();
  const grain = await sharp({ create: { width, height, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 0, sigma: 12 } } }).raw().toBuffer();
  await sharp(field)
    .resize(width, height, { kernel: 'cubic' })
    .composite([{ input: grain, raw: { width, height, channels: 3 }, blend: 'add' }])
    .withMetadata({ orientation })
    .jpeg({ quality: 85 })
    .toFile(path);
}

/**
 * Photos are re-encoded (`storageSaver`), the path whose memory the cases measure: a decode of
 * every pixel, the rotation EXIF asks for, a scale down. (`original`, the default mode, stores the
 * bytes as they are and measures nothing of it.)
 */
interface PhotoOptions {
  maxImageDimension?: number;
  mediaMode?: 'original' | 'storageSaver';
}

function photoCase(id: string, label: string, width: number, height: number, options: PhotoOptions = {}): LimitCase {
  return {
    id,
    label,
    fn: 'processChunkTask',
    async prepare(dir) {
      const file = join(dir, 'photo.jpg');
      await writePhoto(file, width, height, 6);
      await uploadMedia(dir, [{ sourceId: 'DCIM/photo.jpg', name: 'photo.jpg', mimeType: 'image/jpeg', path: file }], { mediaMode: 'storageSaver', ...options });
    },
    run: processUploaded,
  };
}

/** A pixel bomb: a small JPEG of one colour whose header says 10 000 x 10 000 pixels. */
const pixelBomb: LimitCase = {
  id: 'pixel-bomb',
  label: 'processChunk: 100 MP pixel bomb (one-colour JPEG)',
  fn: 'processChunkTask',
  async prepare(dir) {
    const file = join(dir, 'bomb.jpg');
    await sharp({ create: { width: 10_000, height: 10_000, channels: 3, background: '#3a6' } }).jpeg({ quality: 50 }).toFile(file);
    await uploadMedia(dir, [{ sourceId: 'DCIM/bomb.jpg', name: 'bomb.jpg', mimeType: 'image/jpeg', path: file }], { mediaMode: 'storageSaver' });
  },
  run: processUploaded,
};

/** A response that hashes what it is sent and takes it at a reader's pace (a 64 KiB buffer). */
class HashingResponse extends Writable {
  status = 0;
  bytes = 0;
  readonly hash = createHash('sha256');
  constructor() {
    super({ highWaterMark: 64 * 1024 });
  }
  writeHead(status: number): this {
    this.status = status;
    return this;
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.byteLength;
    setImmediate(callback);
  }
}

function downloadCase(megabytes: number): LimitCase {
  return {
    id: `download-${megabytes}mb`,
    label: `downloadBlob: ${megabytes} MB blob`,
    fn: 'downloadBlob',
    async prepare(dir) {
      const deps = benchDeps(dir);
      const bytes = new Uint8Array(randomBytes(megabytes * MB));
      const { hash } = await contentStoreOf(deps).put(UID, bytes, { compress: false });
      writeFileSync(join(dir, 'blob.json'), JSON.stringify({ hash }));
    },
    async run(dir) {
      const deps = benchDeps(dir);
      const { hash } = JSON.parse(readFileSync(join(dir, 'blob.json'), 'utf8')) as { hash: string };
      const secret = 'limits-bench-secret';
      const token = createDownloadToken(secret, { uid: UID, blob: hash, exp: Date.now() + 600_000 });
      const res = new HashingResponse();
      const t0 = performance.now();
      await handleDownloadRequest({ method: 'GET', url: `/downloadBlob/${token}` }, res as unknown as DownloadResponse, deps, secret);
      await new Promise<void>((resolve) => (res.writableFinished ? resolve() : res.once('finish', () => resolve())));
      const ms = performance.now() - t0;
      const ok = res.status === 200 && res.hash.digest('hex') === hash;
      return { invocationsMs: [ms], detail: `HTTP ${res.status}, ${res.bytes} bytes served, ${ok ? 'hash matches' : 'HASH MISMATCH'}` };
    },
  };
}

/** Calls an engine callable as `UID`. */
function call<T>(deps: EngineDeps, name: keyof typeof API_HANDLERS, data: unknown): Promise<T> {
  return (API_HANDLERS[name] as (request: unknown, deps: EngineDeps) => Promise<T>)({ auth: { uid: UID }, data }, deps);
}

/** Generated chat messages, `perConversation` per conversation, a minute apart. */
function* messages(count: number, perConversation: number): Generator<{ id: string; conversationId: string; senderId: string; sentAt: string; text: string }> {
  const start = Date.UTC(2025, 0, 1);
  for (let i = 0; i < count; i++) {
    const conversation = Math.floor(i / perConversation);
    yield { id: `m${i}`, conversationId: `c${conversation}`, senderId: i % 2 ? 'me' : 'them', sentAt: new Date(start + i * 60_000).toISOString(), text: `message ${i} of a long history ${'x'.repeat(i % 40)}` };
  }
}

/**
 * A chat history backed up as a device would (its chunks registered in calls of 250, the bytes
 * uploaded, each chunk processed) and committed, so the job waits for its finalize; with
 * `again`, backed up a second time unchanged (every chunk known). The job (and the first
 * snapshot) go to `job.json`.
 */
async function prepareHistory(dir: string, count: number, again: boolean): Promise<void> {
  const deps = benchDeps(dir);
  const chunks = await chatChunks(messages(count, 5000), 1024 * 1024);
  const backup = async (): Promise<string> => {
    const { job } = await call<{ job: { id: string } }>(deps, 'createBackupJob', { deviceId: 'limits-phone', types: ['chats'], options: { wifiOnly: false } });
    await deps.store.runTransaction(async (tx) => {
      const current = await tx.getJob(job.id);
      if (current) tx.setJob({ ...current, status: 'running', phase: 'uploading', attempts: 1, startedAt: Date.now() });
    });
    for (let i = 0; i < chunks.length; i += 250) {
      const batch = chunks.slice(i, i + 250);
      const { missing } = await call<{ missing: string[] }>(deps, 'registerChunks', { jobId: job.id, chunks: batch.map((c) => ({ id: c.id, type: c.type, size: c.size, items: c.items })) });
      const wanted = new Set(missing);
      for (const chunk of batch) {
        if (!wanted.has(chunk.id)) continue;
        await deps.blobs.put(uploadKey(UID, job.id, chunk.id), chunk.bytes, { ifAbsent: true });
        await processChunk(deps, job.id, chunk.id);
      }
    }
    await call(deps, 'commitUpload', { jobId: job.id, chunkCount: new Set(chunks.map((c) => c.id)).size });
    return job.id;
  };
  const first = await backup();
  let jobId = first;
  if (again) {
    await finalize(deps, first);
    jobId = await backup();
  }
  writeFileSync(join(dir, 'job.json'), JSON.stringify({ jobId, chunks: chunks.length }));
}

function finalizeCase(count: number, again: boolean): LimitCase {
  return {
    id: `finalize-${count / 1000}k${again ? '-unchanged' : ''}`,
    label: `finalize: ${again ? 'an unchanged re-backup of ' : ''}${count.toLocaleString('en-US')} chat messages`,
    fn: 'finalizeTask',
    prepare: (dir) => prepareHistory(dir, count, again),
    async run(dir) {
      const deps = benchDeps(dir);
      const { jobId, chunks } = JSON.parse(readFileSync(join(dir, 'job.json'), 'utf8')) as { jobId: string; chunks: number };
      const t0 = performance.now();
      await finalize(deps, jobId);
      const ms = performance.now() - t0;
      const job = await deps.store.getJob(jobId);
      const snapshot = job?.snapshotId ? await deps.store.getSnapshot(job.snapshotId) : null;
      return { invocationsMs: [ms], detail: `${job?.status}: ${snapshot?.totals.items ?? 0} items in ${chunks} chunks, ${job?.progress.bytesStored ?? 0} B stored by the job` };
    },
  };
}

/** Every page of a restore plan of the history (a callable call each), one after another. */
function restorePlanCase(count: number): LimitCase {
  return {
    id: `restore-plan-${count / 1000}k`,
    label: `getRestorePlan: every page of a ${count.toLocaleString('en-US')}-message snapshot`,
    fn: 'callables',
    async prepare(dir) {
      await prepareHistory(dir, count, false);
      const deps = benchDeps(dir);
      const { jobId } = JSON.parse(readFileSync(join(dir, 'job.json'), 'utf8')) as { jobId: string };
      await finalize(deps, jobId);
    },
    async run(dir) {
      const deps = { ...benchDeps(dir), downloads: { link: async ({ blob }: { blob: string }) => `https://example.invalid/${blob}` } };
      const { jobId } = JSON.parse(readFileSync(join(dir, 'job.json'), 'utf8')) as { jobId: string };
      const snapshotId = (await deps.store.getJob(jobId))?.snapshotId as string;
      const invocationsMs: number[] = [];
      let items = 0;
      let token: string | null = null;
      do {
        const t0 = performance.now();
        const page: { items: unknown[]; nextPageToken: string | null } = await call(deps, 'getRestorePlan', { snapshotId, ...(token ? { pageToken: token } : {}) });
        invocationsMs.push(performance.now() - t0);
        items += page.items.length;
        token = page.nextPageToken;
      } while (token);
      return { invocationsMs, detail: `${items} items in ${invocationsMs.length} pages` };
    },
  };
}

/**
 * verifySnapshot of a whole snapshot, every blob read, as the callable runs it: checks for at most
 * 20 s and hands the rest to `maintenance` tasks, each a round of at most 480 s (verify-rounds.ts).
 * The limits are the callable's (the case's invocation is the call); the rounds run in the same
 * child, so their memory counts too, and their times are in the detail.
 */
function verifyCase(count: number): LimitCase {
  return {
    id: `verify-${count / 1000}k`,
    label: `verifySnapshot: every blob of a ${count.toLocaleString('en-US')}-message snapshot (callable, then task rounds)`,
    fn: 'callables',
    prepare: restorePlanCase(count).prepare,
    async run(dir) {
      const rounds: MaintenanceTaskPayload[] = [];
      const queue: TaskQueue = {
        enqueue: async (name, payload) => {
          if (name === 'maintenance') rounds.push(payload as MaintenanceTaskPayload);
          return { enqueued: true };
        },
      };
      const deps = { ...benchDeps(dir), queue };
      const { jobId, chunks } = JSON.parse(readFileSync(join(dir, 'job.json'), 'utf8')) as { jobId: string; chunks: number };
      const snapshotId = (await deps.store.getJob(jobId))?.snapshotId as string;
      const t0 = performance.now();
      const answer = await call<{ report: VerifyReport | null }>(deps, 'verifySnapshot', { snapshotId });
      const callMs = performance.now() - t0;
      const roundsMs: number[] = [];
      for (let round = rounds.shift(); round; round = rounds.shift()) {
        const r0 = performance.now();
        await runMaintenanceTask(deps, round);
        roundsMs.push(performance.now() - r0);
      }
      const report = answer.report ?? reportOfRecord(snapshotId, (await deps.store.getSnapshot(snapshotId))?.verification as SnapshotVerification);
      const roundsNote = roundsMs.length > 0 ? `, then ${roundsMs.length} task round(s), longest ${(Math.max(...roundsMs) / 1000).toFixed(1)} s` : ', all within the call';
      return {
        invocationsMs: [callMs],
        detail: `${report.ok ? 'ok' : `${report.problemCount} problems`}: ${report.checkedBlobs} blobs, ${report.checkedItems} items (${chunks} chunks)${roundsNote}`,
      };
    },
  };
}

/** Every case, in the order the bench runs them. */
export const LIMIT_CASES: readonly LimitCase[] = [
  videoCase(16),
  videoCase(60),
  videoCase(200),
  photoCase('photo-12mp', 'processChunk: 12 MP portrait JPEG, EXIF orientation 6', 4000, 3000),
  photoCase('photo-48mp', 'processChunk: 48 MP JPEG, EXIF orientation 6', 8000, 6000),
  photoCase('photo-48mp-fit', 'processChunk: 48 MP JPEG, orientation 6, maxImageDimension 4096', 8000, 6000, { maxImageDimension: 4096 }),
  pixelBomb,
  downloadCase(200),
  finalizeCase(100_000, false),
  finalizeCase(1_000_000, false),
  finalizeCase(1_000_000, true),
  restorePlanCase(100_000),
  restorePlanCase(1_000_000),
  verifyCase(320_000),
];
