/**
 * The embedded runtime: the whole engine in one Node process. SQLite holds the documents and the
 * task queue, a folder holds the blobs, and an HTTP server speaks the same client protocol as
 * Firebase, so the SDK cannot tell the two apart.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Database } from 'better-sqlite3';
import { DEFAULT_MEDIA_MODE, lifeboatError, MediaMode, WrappedKeyRing, dispatchDueSchedules, keepsUploadSessions, newJobId, onChunkUploaded, onJobCreated, taskDefinitions, withJobCreatedTrigger, type EngineDeps, type RetryPolicy } from '@lifeboat/functions/core';
import { systemClock, type BlobStore, type Clock, type JobStore, type Logger, type Notifier, type TaskQueue } from '@lifeboat/functions/ports';
import { HttpsMediaFetcher, STRATEGIES } from '@lifeboat/functions/strategies';
import { SqliteChatSource, type ChatSourceConfig } from './adapters/sqlite-chat-source';
import { FolderBlobStore } from './adapters/folder-blob-store';
import { openDatabase } from './adapters/sqlite-database';
import { SqliteJobStore } from './adapters/sqlite-job-store';
import { SqliteTaskQueue } from './adapters/sqlite-task-queue';
import { verifyToken } from './auth/tokens';
import { ensureDataDir, loadMasterKeys, loadSecret } from './data-dir';
import { consoleLogger } from './logger';
import { dashboardData } from './server/dashboard';
import { createHttpServer } from './server/http-server';
import { withGcAfterFinalize, type GcAfterBackupOptions } from './gc-after-backup';
import { embeddedDownloadLinks, serveDownload } from './server/blob-downloads';
import { EMBEDDED_MEMORY_BUDGET } from './memory-budget';
import { ResumableUploads } from './server/resumable-uploads';
import { pickUpDeletionsEvery } from './deletion-pickup';
import { FolderUploadParts, type UploadParts } from './server/upload-parts';

export interface EmbeddedRuntimeOptions {
  /** Folder for the database, blobs and partial uploads. */
  dataDir: string;
  /** @default 8787; 0 picks a free port */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** @default systemClock */
  clock?: Clock;
  /** @default consoleLogger('info') */
  logger?: Logger;
  /** Tasks run at once. @default 2 (one per core here) */
  concurrency?: number;
  /** @default DEFAULT_RETRY_POLICY */
  retryPolicy?: RetryPolicy;
  /** @default the secret kept in the data folder (see loadSecret) */
  tokenSecret?: string;
  /** Whether to run the task queue's polling loop. @default true */
  runWorkers?: boolean;
  /**
   * Encrypt blobs at rest with per-user data keys wrapped by the master key (see loadMasterKeys).
   * @default true
   */
  encryption?: boolean;
  /** How often due schedules are dispatched; 0 turns the scheduler off. @default 30_000 */
  schedulerIntervalMs?: number;
  /** Wraps the job store, e.g. to count writes in the bench. @default none */
  instrumentStore?: (store: JobStore) => JobStore;
  /** Wraps the task queue the engine enqueues to (the bench's cost model). @default none */
  instrumentQueue?: (queue: TaskQueue) => TaskQueue;
  /** Where `serverChats` jobs read the app's chats (tables in the runtime's database). @default the standard layout */
  chatSource?: ChatSourceConfig;
  /**
   * Hosts chat-referenced media may be fetched from over HTTPS (`*.example.com` for subdomains).
   * @default LIFEBOAT_MEDIA_HOSTS (comma-separated), else none: only `lifeboat://` references
   */
  mediaHosts?: readonly string[];
  /** Garbage-collect a user's unreferenced blobs after their backups (docs/invariants.md). @default {} (on, 1 h grace) */
  gcAfterBackup?: GcAfterBackupOptions | false;
  /** Wraps the blob store, e.g. to inject disk faults in tests or count operations in the bench. @default none */
  instrumentBlobs?: (blobs: BlobStore) => BlobStore;
  /** Wraps where partial uploads live, e.g. to inject disk faults in tests. @default none */
  instrumentUploadParts?: (parts: UploadParts) => UploadParts;
  /** How often partial uploads no live session owns are swept (`ResumableUploads.sweep`); 0: only at start. @default 600_000 (10 min) */
  uploadSweepIntervalMs?: number;
  /** Per-user upload limits (`UploadLimits`). @default DEFAULT_UPLOAD_LIMITS */
  uploadLimits?: EngineDeps['uploadLimits'];
  /**
   * The media mode of backups that name none (docs/media.md, "Modes").
   * @default LIFEBOAT_MEDIA_MODE, else 'original'
   */
  mediaMode?: MediaMode;
  /**
   * How long a user's deletion record stays after it started, refusing new data for the user
   * (core/deletion). @default DELETION_SETTLE_MS (10 minutes)
   */
  deletionSettleMs?: number;
  /** How often deletions under way are carried on (`deletion-pickup.ts`); 0: only at start. @default 600_000 (10 min) */
  deletionPickupIntervalMs?: number;
}

export interface EmbeddedRuntime {
  /** Base URL of the API, e.g. `http://127.0.0.1:8787`. */
  url: string;
  port: number;
  deps: EngineDeps;
  queue: SqliteTaskQueue;
  uploads: ResumableUploads;
  db: Database;
  tokenSecret: string;
  stop(): Promise<void>;
}

/**
 * `LIFEBOAT_MEDIA_MODE` as a mode: unset or empty is the default.
 * @throws LifeboatError `invalid-argument` for anything but a mode, so a typo never starts a server.
 */
export function mediaModeFromEnv(value: string | undefined): MediaMode {
  if (value === undefined || value.trim() === '') return DEFAULT_MEDIA_MODE;
  const parsed = MediaMode.safeParse(value.trim());
  if (!parsed.success) throw lifeboatError('invalid-argument', `LIFEBOAT_MEDIA_MODE must be original or storageSaver, not ${JSON.stringify(value)}`);
  return parsed.data;
}

/** Devices are woken on Firebase through FCM; embedded there is nobody to wake, so it logs. */
function loggingNotifier(logger: Logger): Notifier {
  return {
    async notifyDevice(uid, deviceId, message) {
      logger.info('device notification', { uid, deviceId, ...message });
    },
  };
}

export async function startEmbeddedRuntime(options: EmbeddedRuntimeOptions): Promise<EmbeddedRuntime> {
  const paths = ensureDataDir(options.dataDir);
  const logger = options.logger ?? consoleLogger('info');
  const clock = options.clock ?? systemClock;
  const tokenSecret = options.tokenSecret ?? loadSecret(paths.root);
  const db = openDatabase(paths.database);
  const blobs = (options.instrumentBlobs ?? ((b) => b))(new FolderBlobStore(paths.blobs));
  const keyRing = (options.encryption ?? true) ? new WrappedKeyRing(blobs, loadMasterKeys(paths.root)) : undefined;
  const queue = new SqliteTaskQueue({ db, clock, logger, concurrency: options.concurrency ?? 2 });

  let baseUrl = '';
  // The trigger and the upload completion close over `deps`, which needs both: assigned below.
  let deps: EngineDeps;
  const uploads = new ResumableUploads({
    db,
    blobs,
    clock,
    partsDir: paths.uploads,
    parts: (options.instrumentUploadParts ?? ((p) => p))(new FolderUploadParts(paths.uploads)),
    logger,
    isLiveJob: async (jobId) => keepsUploadSessions(await deps.store.getJob(jobId)),
    baseUrl: () => `${baseUrl}/upload`,
    onComplete: async ({ key, size, metadata }) => {
      const { uid, jobId, chunkId } = metadata;
      if (metadata['lifeboat'] !== 'chunk-upload' || !uid || !jobId || !chunkId) return;
      await onChunkUploaded(deps, { uid, jobId, chunkId, key, size });
    },
  });
  const sqliteStore = new SqliteJobStore(db);
  deps = {
    store: withJobCreatedTrigger(
      (options.instrumentStore ?? ((s) => s))(sqliteStore),
      (job) => onJobCreated(deps, job),
    ),
    blobs,
    queue: (options.instrumentQueue ?? ((q) => q))(queue),
    uploads,
    notifier: loggingNotifier(logger),
    clock,
    logger,
    strategies: STRATEGIES,
    newId: newJobId,
    chatSource: new SqliteChatSource(db, options.chatSource ?? {}),
    mediaFetcher: new HttpsMediaFetcher({
      policy: { allowedHosts: options.mediaHosts ?? (process.env['LIFEBOAT_MEDIA_HOSTS'] ?? '').split(',').map((h) => h.trim()).filter(Boolean) },
    }),
    ...(keyRing ? { keyRing } : {}),
    downloads: embeddedDownloadLinks(tokenSecret, () => baseUrl),
    ...(options.retryPolicy ? { retryPolicy: options.retryPolicy } : {}),
    ...(options.uploadLimits ? { uploadLimits: options.uploadLimits } : {}),
    memoryBudget: EMBEDDED_MEMORY_BUDGET,
    mediaMode: options.mediaMode ?? mediaModeFromEnv(process.env['LIFEBOAT_MEDIA_MODE']),
    ...(options.deletionSettleMs !== undefined ? { deletionSettleMs: options.deletionSettleMs } : {}),
  };
  // Aborted first by stop(), so a GC run in progress releases its lease before the process ends.
  const stopping = new AbortController();
  for (const definition of taskDefinitions(deps)) {
    queue.register(options.gcAfterBackup === false ? definition : withGcAfterFinalize(definition, deps, { ...options.gcAfterBackup, signal: stopping.signal, uploads }));
  }

  const server: Server = createHttpServer({
    deps,
    uploads,
    logger,
    verifyToken: (token) => verifyToken(tokenSecret, token, clock.now())?.uid ?? null,
    download: (token, res) => serveDownload(deps, tokenSecret, clock, token, res),
    dashboard: {
      isAdmin: (token) => verifyToken(tokenSecret, token, clock.now())?.admin === true,
      data: () => dashboardData({ store: sqliteStore, queue }, clock.now()),
    },
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8787, options.host ?? '127.0.0.1', () => resolveListen());
  });
  const address = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  await uploads.sweep();
  const stopSweeps = uploads.sweepEvery(options.uploadSweepIntervalMs ?? 600_000);
  const stopDeletions = pickUpDeletionsEvery(deps, options.deletionPickupIntervalMs ?? 600_000);
  if (options.runWorkers ?? true) queue.start();
  const schedulerMs = options.schedulerIntervalMs ?? 30_000;
  let dispatching: Promise<unknown> = Promise.resolve();
  const scheduler =
    schedulerMs > 0
      ? setInterval(() => {
          dispatching = dispatchDueSchedules(deps).catch((err: unknown) => logger.warn(`schedule dispatch failed: ${(err as Error).message}`));
        }, schedulerMs)
      : undefined;
  scheduler?.unref();

  return {
    url: baseUrl,
    port: address.port,
    deps,
    queue,
    uploads,
    db,
    tokenSecret,
    async stop() {
      stopping.abort();
      if (scheduler) clearInterval(scheduler);
      await dispatching;
      await stopSweeps();
      await stopDeletions();
      await new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      });
      await queue.stop();
      db.close();
    },
  };
}
