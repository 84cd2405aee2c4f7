/**
 * The engine's dependencies over one data folder, built the same way by the server thread and by
 * each task worker thread (tasks/task-worker.ts): each opens its own SQLite connection and folder
 * store from the same {@link EngineSettings}, plain data that crosses into worker threads.
 */
import { WrappedKeyRing, keepsUploadSessions, newJobId, onChunkUploaded, onJobCreated, withJobCreatedTrigger, withLifecycleEvents, type EngineDeps, type RetryPolicy } from '@lifeboat/engine/core';
import type { BlobStore, Clock, JobStore, LifecycleEventPublisher, Logger, Notifier, TaskQueue } from '@lifeboat/engine/ports';
import { HttpsMediaFetcher, STRATEGIES } from '@lifeboat/engine/strategies';
import { FolderBlobStore } from './adapters/folder-blob-store';
import { SqliteChatSource, type ChatSourceConfig } from './adapters/sqlite-chat-source';
import { openDatabase, type Database } from './adapters/sqlite-database';
import { SqliteJobStore } from './adapters/sqlite-job-store';
import { ensureDataDir, loadMasterKeys } from './data-dir';
import { embeddedDownloadLinks } from './server/blob-downloads';
import { ResumableUploads } from './server/resumable-uploads';
import { FolderUploadParts, type UploadParts } from './server/upload-parts';

/** What configures the engine of a data folder: the same for the server and its task workers. */
export interface EngineSettings {
  dataDir: string;
  /** Encrypt blobs at rest (see loadMasterKeys). */
  encryption: boolean;
  /** Signs restore download links. */
  tokenSecret: string;
  /** Hosts chat-referenced media may be fetched from. */
  mediaHosts: readonly string[];
  /** @default the standard layout */
  chatSource?: ChatSourceConfig;
  /** @default DEFAULT_RETRY_POLICY */
  retryPolicy?: RetryPolicy;
  /** Per-user upload limits. @default DEFAULT_UPLOAD_LIMITS */
  uploadLimits?: EngineDeps['uploadLimits'];
  /** What media steps plan image decodes against. @default DEFAULT_MEMORY_BUDGET */
  memoryBudget?: EngineDeps['memoryBudget'];
  /** Per-user quotas. @default none */
  quotas?: EngineDeps['quotas'];
  /** Processing tasks one user may run at once. @default none */
  fairShare?: EngineDeps['fairShare'];
  /** The media mode of backups that name none. @default the engine's, original */
  mediaMode?: EngineDeps['mediaMode'];
  /** How long a user's deletion record refuses new data. @default DELETION_SETTLE_MS */
  deletionSettleMs?: EngineDeps['deletionSettleMs'];
}

/** The engine of one thread, with the parts its runtime also uses directly. */
export interface ThreadEngine<Q extends TaskQueue> {
  deps: EngineDeps;
  queue: Q;
  db: Database;
  blobs: BlobStore;
  /** The job store before the job-created trigger and any instrumentation. */
  sqliteStore: SqliteJobStore;
  uploads: ResumableUploads;
}

export interface ThreadWiring<Q extends TaskQueue> {
  /** The thread's task queue, over its database connection. */
  queue: (db: Database) => Q;
  clock: Clock;
  logger: Logger;
  /**
   * Where lifecycle events go once their state is committed: the server thread's log and hook;
   * a task thread posts them to the server thread.
   */
  events: LifecycleEventPublisher;
  /** The server's base URL (upload sessions and download links name it). */
  baseUrl: () => string;
  /** Wraps the job store, e.g. to count writes. @default none */
  instrumentStore?: (store: JobStore) => JobStore;
  /** Wraps the queue the engine enqueues to (the bench's cost model). @default none */
  instrumentQueue?: (queue: TaskQueue) => TaskQueue;
  /** Wraps the blob store, e.g. to inject disk faults in tests. @default none */
  instrumentBlobs?: (blobs: BlobStore) => BlobStore;
  /** Wraps where partial uploads live, e.g. to inject disk faults in tests. @default none */
  instrumentUploadParts?: (parts: UploadParts) => UploadParts;
}

/** Devices are woken on Firebase through FCM; embedded there is nobody to wake, so it logs. */
function loggingNotifier(logger: Logger): Notifier {
  return {
    async notifyDevice(uid, deviceId, message) {
      logger.info('device notification', { uid, deviceId, ...message });
      return { outcome: 'sent', message: 'logged: the embedded runtime has no push service' };
    },
  };
}

/** Opens the data folder and builds the engine's deps for this thread. */
export function openThreadEngine<Q extends TaskQueue>(settings: EngineSettings, wiring: ThreadWiring<Q>): ThreadEngine<Q> {
  const paths = ensureDataDir(settings.dataDir);
  const db = openDatabase(paths.database);
  const queue = wiring.queue(db);
  const blobs = (wiring.instrumentBlobs ?? ((b) => b))(new FolderBlobStore(paths.blobs));
  const keyRing = settings.encryption ? new WrappedKeyRing(blobs, loadMasterKeys(paths.root)) : undefined;
  // The upload completion and the job-created trigger close over `deps`, which needs both.
  let deps: EngineDeps;
  const uploads = new ResumableUploads({
    db,
    blobs,
    clock: wiring.clock,
    partsDir: paths.uploads,
    parts: (wiring.instrumentUploadParts ?? ((p) => p))(new FolderUploadParts(paths.uploads)),
    logger: wiring.logger,
    isLiveJob: async (jobId) => keepsUploadSessions(await deps.store.getJob(jobId)),
    baseUrl: () => `${wiring.baseUrl()}/upload`,
    onComplete: async ({ key, size, metadata }) => {
      const { uid, jobId, chunkId } = metadata;
      if (metadata['lifeboat'] !== 'chunk-upload' || !uid || !jobId || !chunkId) return;
      await onChunkUploaded(deps, { uid, jobId, chunkId, key, size });
    },
  });
  const sqliteStore = new SqliteJobStore(db);
  deps = {
    store: withJobCreatedTrigger(withLifecycleEvents((wiring.instrumentStore ?? ((s) => s))(sqliteStore), wiring.events, wiring.logger), (job) => onJobCreated(deps, job)),
    blobs,
    queue: (wiring.instrumentQueue ?? ((q) => q))(queue),
    uploads,
    notifier: loggingNotifier(wiring.logger),
    clock: wiring.clock,
    logger: wiring.logger,
    strategies: STRATEGIES,
    newId: newJobId,
    chatSource: new SqliteChatSource(db, settings.chatSource ?? {}),
    mediaFetcher: new HttpsMediaFetcher({ policy: { allowedHosts: [...settings.mediaHosts] } }),
    ...(keyRing ? { keyRing } : {}),
    downloads: embeddedDownloadLinks(settings.tokenSecret, wiring.baseUrl),
    // GC runs after backups in this process (gc-after-backup.ts), not as maintenance tasks.
    maintenanceDelaySeconds: null,
    ...(settings.retryPolicy ? { retryPolicy: settings.retryPolicy } : {}),
    ...(settings.uploadLimits ? { uploadLimits: settings.uploadLimits } : {}),
    ...(settings.memoryBudget ? { memoryBudget: settings.memoryBudget } : {}),
    ...(settings.quotas ? { quotas: settings.quotas } : {}),
    ...(settings.fairShare ? { fairShare: settings.fairShare } : {}),
    ...(settings.mediaMode ? { mediaMode: settings.mediaMode } : {}),
    ...(settings.deletionSettleMs !== undefined ? { deletionSettleMs: settings.deletionSettleMs } : {}),
  };
  return { deps, queue, db, blobs, sqliteStore, uploads };
}
