/**
 * `LIFEBOAT_BACKEND=embedded`: the functions over the embedded runtime's SQLite store and folder
 * blob store, for the offline emulator test (the Firestore and Storage emulators need Java 21).
 * Cloud Tasks still queues the work, so the tasks emulator dispatches and retries it for real.
 *
 * `@lifeboat/embedded` is loaded with a runtime `require` of a computed path: it is a workspace
 * package with a native dependency (better-sqlite3), absent from the deployed bundle, and neither
 * tsc nor a bundler may follow it. Only `getRuntime()` reaches this module, and only when the
 * environment asks for it.
 *
 * Environment:
 * - `LIFEBOAT_DATA_DIR` (required): the embedded data folder, shared with the test process.
 * - `LIFEBOAT_INJECT_FAULTS` (tests): the first N writes of processed blobs, counted across every
 *   function instance through the data folder, fail with a transient `unavailable`, as a Cloud
 *   Storage 503 would, so the emulator test sees the tasks emulator retry a step.
 * - `LIFEBOAT_EMBEDDED_DOWNLOAD_URL`: the downloadBlob function's URL for restore links.
 * - `LIFEBOAT_UPLOAD_BASE_URL`: where upload session URLs point. Sessions are recorded in the
 *   shared database; the test process serves the PUTs with the embedded `ResumableUploads` on the
 *   same folder and, on completion, POSTs the storage CloudEvent to `onChunkObjectFinalized`, as
 *   Cloud Storage would.
 */
import {
  newJobId,
  onJobCreated,
  withJobCreatedTrigger,
  WrappedKeyRing,
  type EngineDeps,
  type MasterKey,
} from '../core';
import { lifeboatError } from '../core/errors';
import { systemClock, type BlobStore, type Clock, type JobStore, type Notifier, type UploadSessions } from '../ports';
import { STRATEGIES } from '../strategies';
import type { FirebaseRuntime } from './deps';
import { cloudLogger } from './logger';
import { MASTER_KEY, mediaModeParam } from './params';
import { downloadBaseUrl, downloadSecret, functionDownloadLinks } from './download-blob';
import { createTaskQueue, parseMasterKeys } from './production-backend';

/** The parts of `@lifeboat/embedded` used here (it is not a dependency, so no types are imported). */
interface SqliteDatabase {
  prepare(sql: string): { all(...params: unknown[]): unknown[] };
}
interface EmbeddedAdapters {
  openDatabase(path: string): SqliteDatabase;
  SqliteJobStore: new (db: SqliteDatabase) => JobStore;
  FolderBlobStore: new (root: string) => BlobStore;
}
interface EmbeddedDataDir {
  ensureDataDir(root: string): { root: string; database: string; blobs: string; uploads: string };
  loadMasterKeys(root: string): { current: MasterKey; previous: MasterKey[] };
}
interface EmbeddedUploads {
  ResumableUploads: new (options: {
    db: SqliteDatabase;
    blobs: BlobStore;
    clock: Clock;
    partsDir: string;
    baseUrl: () => string;
    onComplete: (upload: unknown) => Promise<void>;
  }) => UploadSessions;
}

/**
 * Fails the first `count` puts of content blobs (`users/{uid}/blobs/...`) with a transient error.
 * Each function runs in its own process in the emulator, so the count lives in the data folder: `mkdir` of a numbered
 * marker either creates it (this put takes that fault) or finds it taken, atomically.
 */
function withInjectedFaults(blobs: BlobStore, root: string, count: number): BlobStore {
  if (!(count > 0)) return blobs;
  const { mkdirSync } = require('node:fs') as typeof import('node:fs');
  const { join } = require('node:path') as typeof import('node:path');
  mkdirSync(join(root, 'injected-faults'), { recursive: true });
  const takeFault = (): boolean => {
    for (let i = 0; i < count; i++) {
      try {
        mkdirSync(join(root, 'injected-faults', String(i)));
        return true;
      } catch {
        // Taken by an earlier put: try the next marker.
      }
    }
    return false;
  };
  return new Proxy(blobs, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (property !== 'put' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
      return async (key: string, ...rest: unknown[]) => {
        if (/^users\/[^/]+\/blobs\//.test(key) && takeFault()) {
          throw lifeboatError('unavailable', `injected fault: blob store unavailable [key=${key}]`);
        }
        return (value as (...args: unknown[]) => unknown).call(target, key, ...rest);
      };
    },
  });
}

function loadEmbedded<T>(path: string): T {
  const specifier = ['@lifeboat', 'embedded', 'lib', path].join('/');
  return require(specifier) as T;
}

/** Devices are woken through FCM in production; the emulators have no FCM, so this logs. */
const loggingNotifier: Notifier = {
  async notifyDevice(uid, deviceId, message) {
    cloudLogger.info('device notification', { uid, deviceId, ...message });
  },
};

export function createEmbeddedRuntime(env: NodeJS.ProcessEnv = process.env): FirebaseRuntime {
  const root = env['LIFEBOAT_DATA_DIR'];
  if (!root) throw lifeboatError('failed-precondition', 'LIFEBOAT_BACKEND=embedded needs LIFEBOAT_DATA_DIR');
  const { openDatabase, SqliteJobStore, FolderBlobStore } = loadEmbedded<EmbeddedAdapters>('adapters');
  const { ensureDataDir, loadMasterKeys } = loadEmbedded<EmbeddedDataDir>('data-dir');
  const { ResumableUploads } = loadEmbedded<EmbeddedUploads>('server/resumable-uploads');
  const paths = ensureDataDir(root);
  const db = openDatabase(paths.database);
  const blobs = withInjectedFaults(new FolderBlobStore(paths.blobs), paths.root, Number(env['LIFEBOAT_INJECT_FAULTS'] ?? 0));
  const secret = MASTER_KEY.value();
  const keys = secret ? parseMasterKeys(secret) : loadMasterKeys(paths.root);
  const uploads = new ResumableUploads({
    db,
    blobs,
    clock: systemClock,
    partsDir: paths.uploads,
    baseUrl: () => {
      const base = env['LIFEBOAT_UPLOAD_BASE_URL'];
      if (!base) throw lifeboatError('failed-precondition', 'LIFEBOAT_BACKEND=embedded needs LIFEBOAT_UPLOAD_BASE_URL for uploads');
      return base.replace(/\/+$/, '');
    },
    // The PUTs are served by the process behind LIFEBOAT_UPLOAD_BASE_URL, never by a function.
    onComplete: async () => {},
  });
  // There is no Firestore to fire onDocumentCreated here: the store's create hook plays it, as in
  // the embedded runtime. A CloudEvent posted to onBackupJobCreated as well enqueues the same
  // kickoff task id, which the queue treats as already done.
  let deps: EngineDeps;
  const store = withJobCreatedTrigger(new SqliteJobStore(db), (job) => onJobCreated(deps, job));
  deps = {
    store,
    blobs,
    queue: createTaskQueue(),
    uploads,
    notifier: loggingNotifier,
    clock: systemClock,
    logger: cloudLogger,
    strategies: STRATEGIES,
    newId: newJobId,
    keyRing: new WrappedKeyRing(blobs, keys),
    // Restore links point at this backend's own downloadBlob function, signed with the secret it
    // checks: in the emulator its local URL, from the environment (a param's .env value would win).
    downloads: functionDownloadLinks(() => downloadSecret(), () => env['LIFEBOAT_EMBEDDED_DOWNLOAD_URL'] || downloadBaseUrl()),
    mediaMode: mediaModeParam(),
  };
  return {
    deps,
    async findStaleJobs({ statuses, updatedBefore, limit }) {
      const marks = statuses.map(() => '?').join(', ');
      const rows = db
        .prepare(`SELECT id FROM jobs WHERE status IN (${marks}) AND json_extract(doc, '$.updatedAt') < ? ORDER BY json_extract(doc, '$.updatedAt') LIMIT ?`)
        .all(...statuses, updatedBefore, limit) as Array<{ id: string }>;
      return rows.map((r) => r.id);
    },
    async findSnapshotOwners(since, limit) {
      const rows = db.prepare('SELECT DISTINCT uid FROM snapshots WHERE created_at >= ? LIMIT ?').all(since, limit) as Array<{ uid: string }>;
      return rows.map((r) => r.uid);
    },
  };
}
