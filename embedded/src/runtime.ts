/**
 * The embedded runtime: the whole engine in one Node process. SQLite holds the documents and the
 * task queue, a folder holds the blobs, and an HTTP server speaks the same client protocol as
 * Firebase, so the SDK cannot tell the two apart. Task steps run in worker threads of the same
 * process (tasks/task-worker-pool.ts), so a step that spins never stalls the HTTP server and the
 * queue's deadline always fires.
 */
import { extname, join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Database } from 'better-sqlite3';
import { DEFAULT_MEDIA_MODE, dispatchDueSchedules, lifeboatError, MediaMode, messageOf, onTaskLost, parseAllowedOrigins, sampleQueues, taskDefinitions, type AdminDeps, type EngineDeps, type FairShare, type RetryPolicy, type UserQuotas } from '@lifeboat/engine/core';
import { systemClock, type BlobStore, type Clock, type JobStore, type Logger, type QueueName, type TaskQueue } from '@lifeboat/engine/ports';
import { type ChatSourceConfig } from './adapters/sqlite-chat-source';
import { sqliteStaleJobFinder } from './adapters/sqlite-stale-job-finder';
import { SqliteAdminStore } from './adapters/sqlite-admin-store';
import { SqliteQueueMonitor } from './adapters/sqlite-queue-monitor';
import { SqliteTaskQueue } from './adapters/sqlite-task-queue';
import { verifyToken } from './auth/tokens';
import { ensureDataDir, loadSecret } from './data-dir';
import { openThreadEngine, type EngineSettings } from './engine-deps';
import { consoleLogger } from './logger';
import { dashboardData } from './server/dashboard';
import { createHttpServer } from './server/http-server';
import { withGcAfterFinalize, type GcAfterBackupOptions } from './gc-after-backup';
import { serveDownload } from './server/blob-downloads';
import { loggingEventPublisher, type LifecycleEventHook } from './lifecycle-events';
import { EMBEDDED_MEMORY_BUDGET } from './memory-budget';
import { ResumableUploads } from './server/resumable-uploads';
import { pickUpDeletionsEvery } from './deletion-pickup';
import type { UploadParts } from './server/upload-parts';
import { startStaleJobSweeper, type StaleJobSweeperOptions } from './stale-job-sweeper';
import { TASK_THREAD_BYTES, TaskWorkerPool } from './tasks/task-worker-pool';
import { newTurnCell } from './tasks/thread-turn';
import type { TaskWorkerData } from './tasks/task-worker';

/** The worker entry next to this module: compiled `.js`, or `.ts` when run from sources. */
const TASK_WORKER_SCRIPT = join(__dirname, 'tasks', `task-worker${extname(__filename)}`);
const FROM_SOURCES = extname(__filename) === '.ts';
/** How long stop() lets task threads end what they are doing before it terminates them. */
const STOP_GRACE_MS = 2_000;

export interface EmbeddedRuntimeOptions {
  /** Folder for the database, blobs and partial uploads. */
  dataDir: string;
  /** @default 8787; 0 picks a free port */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Only with `isolateTasks: false`: worker threads keep the system clock. @default systemClock */
  clock?: Clock;
  /** @default consoleLogger('info') */
  logger?: Logger;
  /** Tasks run at once (worker threads, when isolated). @default 2 (one per core here) */
  concurrency?: number;
  /** @default DEFAULT_RETRY_POLICY */
  retryPolicy?: RetryPolicy;
  /** Per-queue dispatch deadlines, seconds, replacing the engine's (core/task-definitions.ts). @default the engine's */
  dispatchDeadlineSeconds?: Partial<Record<QueueName, number>>;
  /** @default the secret kept in the data folder (see loadSecret) */
  tokenSecret?: string;
  /** Whether to run the task queue's polling loop. @default true */
  runWorkers?: boolean;
  /**
   * Run task steps in worker threads (one attempt per thread; the thread is terminated at the
   * queue's dispatch deadline), not on the HTTP server's event loop. From TypeScript sources
   * (jest) a worker thread cannot load the engine without a loader: see `taskWorkerPreload`.
   * @default true when running compiled and neither `clock` nor an `instrument*` option is given
   *   (a custom clock cannot cross into a thread; an instrumented port would miss the steps' use of
   *   theirs); false otherwise
   */
  isolateTasks?: boolean;
  /** Modules each task worker thread requires first (tests: a TypeScript loader). @default none */
  taskWorkerPreload?: readonly string[];
  /**
   * A module each task worker thread loads once its deps are built; its
   * `configureTaskWorker(deps)` may return changed deps (extra or instrumented strategies). The
   * server thread does not load it. @default none
   */
  taskWorkerSetup?: string;
  /** Each task worker thread's JS heap limit, MiB: past it the thread dies, the server stays. @default 1024 */
  taskHeapLimitMb?: number;
  /**
   * Encrypt blobs at rest with per-user data keys wrapped by the master key (see loadMasterKeys).
   * @default true
   */
  encryption?: boolean;
  /** How often due schedules are dispatched; 0 turns the scheduler off. @default 30_000 */
  schedulerIntervalMs?: number;
  /**
   * The stale-job sweeper (stale-job-sweeper.ts): reconciles jobs with the queue at start, then
   * sweeps every minute; `false` turns it off. @default {}
   */
  staleJobSweep?: StaleJobSweeperOptions | false;
  /**
   * Wraps the server thread's job store, e.g. to count writes in the bench. With isolated tasks
   * the steps write through their threads' own stores, which it does not see (as for every
   * `instrument*` option). @default none
   */
  instrumentStore?: (store: JobStore) => JobStore;
  /** Wraps the task queue the server thread enqueues to (the bench's cost model). @default none */
  instrumentQueue?: (queue: TaskQueue) => TaskQueue;
  /** Wraps the server thread's blob store, e.g. to inject disk faults in tests. @default none */
  instrumentBlobs?: (blobs: BlobStore) => BlobStore;
  /** Wraps where partial uploads live, e.g. to inject disk faults in tests. @default none */
  instrumentUploadParts?: (parts: UploadParts) => UploadParts;
  /** How often partial uploads no live session owns are swept (`ResumableUploads.sweep`); 0: only at start. @default 600_000 (10 min) */
  uploadSweepIntervalMs?: number;
  /** Per-user upload limits (`UploadLimits`). @default DEFAULT_UPLOAD_LIMITS */
  uploadLimits?: EngineDeps['uploadLimits'];
  /** Where `serverChats` jobs read the app's chats (tables in the runtime's database). @default the standard layout */
  chatSource?: ChatSourceConfig;
  /**
   * Hosts chat-referenced media may be fetched from over HTTPS (`*.example.com` for subdomains).
   * @default LIFEBOAT_MEDIA_HOSTS (comma-separated), else none: only `lifeboat://` references
   */
  mediaHosts?: readonly string[];
  /** Garbage-collect a user's unreferenced blobs after their backups (docs/invariants.md). @default {} (on, 1 h grace) */
  gcAfterBackup?: GcAfterBackupOptions | false;
  /**
   * Browser origins allowed to use the server (`https://app.example.com`; core/web-origins.ts):
   * they get CORS headers, any other origin is refused. Requests without an `Origin` are served.
   * @default LIFEBOAT_ALLOWED_ORIGINS (comma-separated or a JSON list), else none
   */
  allowedOrigins?: readonly string[];
  /**
   * Called with each lifecycle event (backup completed, failed, waiting for the device, snapshot
   * health changed) once it is committed, also for events of steps run in task threads; every
   * event is also logged. @default none
   */
  onLifecycleEvent?: LifecycleEventHook;
  /** Per-user quotas (`UserQuotas`). @default none */
  quotas?: Partial<UserQuotas>;
  /**
   * Processing tasks one user may run at once (`FairShare`), so a large backup leaves workers for
   * other users. @default LIFEBOAT_FAIR_SHARE (tasks per user), else off
   */
  fairShare?: FairShare;
  /** How often the queues' depth is sampled for the dashboard; 0: never. @default 60_000 */
  queueSampleIntervalMs?: number;
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
  /** The deps of the admin API (the dashboard's): the engine's, the admin store and the queue monitor. */
  admin: AdminDeps;
  queue: SqliteTaskQueue;
  uploads: ResumableUploads;
  db: Database;
  tokenSecret: string;
  /** Whether task steps run in worker threads. */
  isolated: boolean;
  stop(): Promise<void>;
}

/** Whether steps run in worker threads; see {@link EmbeddedRuntimeOptions.isolateTasks}. */
function isolation(options: EmbeddedRuntimeOptions): boolean {
  const customClock = options.clock !== undefined && options.clock !== systemClock;
  const instrumented = [options.instrumentStore, options.instrumentQueue, options.instrumentBlobs, options.instrumentUploadParts].some(Boolean);
  if (options.isolateTasks === undefined) return !FROM_SOURCES && !customClock && !instrumented;
  if (options.isolateTasks && customClock) {
    throw lifeboatError('invalid-argument', 'a custom clock cannot reach task worker threads: pass isolateTasks: false');
  }
  if (options.isolateTasks && FROM_SOURCES && (options.taskWorkerPreload ?? []).length === 0) {
    throw lifeboatError('failed-precondition', 'isolated tasks from TypeScript sources need a loader in taskWorkerPreload (or run the compiled runtime)');
  }
  return options.isolateTasks;
}

/** The fair share asked for, else `LIFEBOAT_FAIR_SHARE` (tasks per user), else none. */
function fairShareOption(given: FairShare | undefined): Pick<EngineSettings, 'fairShare'> {
  if (given) return { fairShare: given };
  const perUser = Number(process.env['LIFEBOAT_FAIR_SHARE'] ?? 0);
  return Number.isInteger(perUser) && perUser > 0 ? { fairShare: { perUser, slotSeconds: 540 } } : {};
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

export async function startEmbeddedRuntime(options: EmbeddedRuntimeOptions): Promise<EmbeddedRuntime> {
  const isolated = isolation(options);
  const paths = ensureDataDir(options.dataDir);
  const logger = options.logger ?? consoleLogger('info');
  const clock = options.clock ?? systemClock;
  const concurrency = options.concurrency ?? 2;
  const settings: EngineSettings = {
    dataDir: paths.root,
    encryption: options.encryption ?? true,
    tokenSecret: options.tokenSecret ?? loadSecret(paths.root),
    mediaHosts: options.mediaHosts ?? (process.env['LIFEBOAT_MEDIA_HOSTS'] ?? '').split(',').map((h) => h.trim()).filter(Boolean),
    ...(options.chatSource ? { chatSource: options.chatSource } : {}),
    ...(options.retryPolicy ? { retryPolicy: options.retryPolicy } : {}),
    ...(options.uploadLimits ? { uploadLimits: options.uploadLimits } : {}),
    // Steps plan image decodes against what the server holds besides: its task threads too.
    memoryBudget: isolated ? { ...EMBEDDED_MEMORY_BUDGET, baselineBytes: EMBEDDED_MEMORY_BUDGET.baselineBytes + concurrency * TASK_THREAD_BYTES } : EMBEDDED_MEMORY_BUDGET,
    ...(options.quotas ? { quotas: options.quotas } : {}),
    ...fairShareOption(options.fairShare),
    mediaMode: options.mediaMode ?? mediaModeFromEnv(process.env['LIFEBOAT_MEDIA_MODE']),
    ...(options.deletionSettleMs !== undefined ? { deletionSettleMs: options.deletionSettleMs } : {}),
  };

  let baseUrl = '';
  // The queue's loss reports are recorded through the engine, which needs the queue: assigned below.
  let deps: EngineDeps;
  const allowedOrigins = options.allowedOrigins ? parseAllowedOrigins(options.allowedOrigins) : parseAllowedOrigins(process.env['LIFEBOAT_ALLOWED_ORIGINS']);
  const events = loggingEventPublisher(logger, options.onLifecycleEvent);
  const engine = openThreadEngine(settings, {
    clock,
    logger,
    events,
    baseUrl: () => baseUrl,
    ...(options.instrumentStore ? { instrumentStore: options.instrumentStore } : {}),
    ...(options.instrumentQueue ? { instrumentQueue: options.instrumentQueue } : {}),
    ...(options.instrumentBlobs ? { instrumentBlobs: options.instrumentBlobs } : {}),
    ...(options.instrumentUploadParts ? { instrumentUploadParts: options.instrumentUploadParts } : {}),
    queue: (db) =>
      new SqliteTaskQueue({
        db,
        clock,
        logger,
        concurrency,
        onAttemptLost: (event) => onTaskLost(deps, event),
        // Worker threads are terminated on stop; their tasks are handed back, not failed.
        interruptOnStop: isolated,
      }),
  });
  deps = engine.deps;
  const { queue, db, uploads, sqliteStore } = engine;
  const admin: AdminDeps = { ...deps, admin: new SqliteAdminStore(db), queues: new SqliteQueueMonitor(db, clock) };
  const deadlines = options.dispatchDeadlineSeconds ? { dispatchDeadlineSeconds: options.dispatchDeadlineSeconds } : {};
  const gcAfterBackup = options.gcAfterBackup ?? {};
  // Aborted first by stop(), so a GC run in progress releases its lease before the process ends
  // (in task threads: the pool tells each thread, see stop()).
  const stopping = new AbortController();

  let pool: TaskWorkerPool | undefined;
  if (isolated) {
    const mediaTurn = newTurnCell();
    // Plain data only: the thread makes its own stop signal and sweeps with its own uploads.
    const { signal: _signal, uploads: _uploads, ...gcData } = gcAfterBackup === false ? {} : gcAfterBackup;
    const data: TaskWorkerData = {
      settings,
      baseUrl: '',
      ...deadlines,
      gcAfterBackup: gcAfterBackup === false ? false : gcData,
      mediaTurn,
      ...(options.taskWorkerSetup ? { setup: options.taskWorkerSetup } : {}),
    };
    const workers = new TaskWorkerPool({
      script: TASK_WORKER_SCRIPT,
      ...(options.taskWorkerPreload ? { preload: options.taskWorkerPreload } : {}),
      // Read as each thread starts: the base URL is known once the server listens, before any.
      data: () => ({ ...data, baseUrl }),
      size: concurrency,
      heapLimitMb: options.taskHeapLimitMb ?? 1024,
      logger,
      onEnqueued: () => queue.wake(),
      // Committed in a thread, published here, where the host's hook lives.
      onEvent: (event) => {
        events.publish(event).catch((err: unknown) => logger.warn(`lifecycle event not delivered [type=${event.type}, subject=${event.subject}]: ${messageOf(err)}`));
      },
      turn: mediaTurn,
    });
    pool = workers;
    // The server thread keeps each queue's retry policy and deadline; the work runs in a thread.
    for (const definition of taskDefinitions(deps, deadlines)) {
      queue.register({ ...definition, handler: (payload, context) => workers.run(definition.name, payload, context) });
    }
  } else {
    for (const definition of taskDefinitions(deps, deadlines)) {
      queue.register(gcAfterBackup === false ? definition : withGcAfterFinalize(definition, deps, { ...gcAfterBackup, signal: stopping.signal, uploads }));
    }
  }

  const server: Server = createHttpServer({
    deps,
    uploads,
    logger,
    allowedOrigins,
    verifyToken: (token) => verifyToken(settings.tokenSecret, token, clock.now())?.uid ?? null,
    download: (token, res) => serveDownload(deps, settings.tokenSecret, clock, token, res),
    dashboard: {
      adminOf: (token) => {
        const claims = verifyToken(settings.tokenSecret, token, clock.now());
        return claims?.admin === true ? claims.uid : null;
      },
      deps: admin,
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
  pool?.warm();
  const stopDeletions = pickUpDeletionsEvery(deps, options.deletionPickupIntervalMs ?? 600_000);
  if (options.runWorkers ?? true) queue.start();
  const sweeper = options.staleJobSweep === false ? undefined : startStaleJobSweeper(deps, sqliteStaleJobFinder(db), options.staleJobSweep ?? {});
  await sweeper?.started;
  const schedulerMs = options.schedulerIntervalMs ?? 30_000;
  let dispatching: Promise<unknown> = Promise.resolve();
  const scheduler =
    schedulerMs > 0
      ? setInterval(() => {
          dispatching = dispatchDueSchedules(deps).catch((err: unknown) => logger.warn(`schedule dispatch failed: ${(err as Error).message}`));
        }, schedulerMs)
      : undefined;
  scheduler?.unref();
  const sampleMs = options.queueSampleIntervalMs ?? 60_000;
  let sampling: Promise<unknown> = Promise.resolve();
  const sampler =
    sampleMs > 0
      ? setInterval(() => {
          sampling = sampleQueues(admin).catch((err: unknown) => logger.warn(`queue sample failed: ${(err as Error).message}`));
        }, sampleMs)
      : undefined;
  sampler?.unref();

  return {
    url: baseUrl,
    port: address.port,
    deps,
    admin,
    queue,
    uploads,
    db,
    tokenSecret: settings.tokenSecret,
    isolated,
    async stop() {
      stopping.abort();
      // Threads are told too, and given a moment to end what stops quickly (a GC run releasing its
      // lease); what still runs after it is terminated and handed back by queue.stop().
      await pool?.stopping(STOP_GRACE_MS);
      if (scheduler) clearInterval(scheduler);
      if (sampler) clearInterval(sampler);
      await dispatching;
      await sweeper?.stop();
      await sampling;
      await stopSweeps();
      await stopDeletions();
      await new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      });
      await queue.stop();
      await pool?.close();
      db.close();
    },
  };
}

