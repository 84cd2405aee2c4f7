/**
 * The Firebase functions over the embedded runtime's stores, for the Emulator Suite where the
 * Firestore and Storage emulators cannot run (they need Java 21): the SQLite store and folder blob
 * store in `LIFEBOAT_DATA_DIR`, with Cloud Tasks (the tasks emulator) still queueing the work, so
 * callables, task dispatch and retries, schedules and triggers run for real. It is the runtime of
 * the emulator codebase (`functions.ts`), never of the deployed one.
 *
 * Environment (not params: the emulator gives `.env` values precedence over the process
 * environment, and these change per run):
 * - `LIFEBOAT_DATA_DIR` (required): the embedded data folder, shared with the process that plays
 *   Cloud Storage (it serves the upload sessions).
 * - `LIFEBOAT_UPLOAD_BASE_URL`: where upload session URLs point. Sessions are recorded in the
 *   shared database; that process serves the PUTs with the embedded `ResumableUploads` on the same
 *   folder and, on completion, POSTs the storage CloudEvent to `onChunkObjectFinalized`, as Cloud
 *   Storage would.
 * - `LIFEBOAT_EMBEDDED_DOWNLOAD_URL`: the downloadBlob function's URL for restore links.
 * - `LIFEBOAT_INJECT_FAULTS` (tests): see injected-faults.ts.
 * - `CLOUD_EVENTARC_EMULATOR_HOST` (set by the Emulator Suite when the Eventarc emulator runs):
 *   lifecycle events go to its `firebase` channel, where the example subscriber receives them;
 *   without it they are logged.
 */
import { getApps, initializeApp } from 'firebase-admin/app';
import { getEventarc } from 'firebase-admin/eventarc';
import { getFunctions } from 'firebase-admin/functions';
import { EventarcPublisher } from '@lifeboat/engine/adapters';
import { lifeboatError, newJobId, onJobCreated, withJobCreatedTrigger, withLifecycleEvents, WrappedKeyRing, type EngineDeps } from '@lifeboat/engine/core';
import { systemClock, type LifecycleEventPublisher, type Logger, type Notifier } from '@lifeboat/engine/ports';
import { STRATEGIES } from '@lifeboat/engine/strategies';
import { MASTER_KEY, mediaModeParam, REGION } from '@lifeboat/engine/firebase/config/params';
import type { FirebaseRuntime } from '@lifeboat/engine/firebase/runtime/firebase-runtime';
import { downloadBaseUrl, downloadSecret, functionDownloadLinks } from '@lifeboat/engine/firebase/runtime/download-links';
import { cloudLogger } from '@lifeboat/engine/firebase/runtime/logger';
import { createTaskQueue, parseMasterKeys } from '@lifeboat/engine/firebase/runtime/production-backend';
import { FolderBlobStore } from '../adapters/folder-blob-store';
import { openDatabase } from '../adapters/sqlite-database';
import { SqliteJobStore } from '../adapters/sqlite-job-store';
import { ensureDataDir, loadMasterKeys } from '../data-dir';
import { loggingEventPublisher } from '../lifecycle-events';
import { ResumableUploads } from '../server/resumable-uploads';
import { withInjectedFaults } from './injected-faults';

/** The channel the example subscriber listens on: Firebase's default one. */
export const EMULATOR_EVENTS_CHANNEL = 'locations/us-central1/channels/firebase';

/** Devices are woken through FCM in production; the emulators have no FCM, so this logs. */
function loggingNotifier(logger: Logger): Notifier {
  return {
    async notifyDevice(uid, deviceId, message) {
      logger.info('device notification', { uid, deviceId, ...message });
    },
  };
}

/**
 * Lifecycle events: to the Eventarc emulator when it runs, else to the log. firebase-admin's
 * Eventarc client asks for an access token even when it talks to the emulator, and there are no
 * credentials here, so its app gets a stand-in one (the emulator checks none).
 */
function emulatorEvents(env: NodeJS.ProcessEnv, logger: Logger): LifecycleEventPublisher {
  if (!env['CLOUD_EVENTARC_EMULATOR_HOST']) return loggingEventPublisher(logger);
  const project = env['GCLOUD_PROJECT'] ?? 'demo-lifeboat';
  const name = 'lifeboat-emulator-events';
  const credential = { getAccessToken: async () => ({ access_token: 'emulator', expires_in: 3600 }) };
  const app = getApps().find((a) => a.name === name) ?? initializeApp({ projectId: project, credential }, name);
  return new EventarcPublisher(getEventarc(app).channel(EMULATOR_EVENTS_CHANNEL), `//lifeboat/projects/${project}`);
}

export function createEmulatorRuntime(env: NodeJS.ProcessEnv = process.env): FirebaseRuntime {
  const root = env['LIFEBOAT_DATA_DIR'];
  if (!root) throw lifeboatError('failed-precondition', 'the emulator codebase needs LIFEBOAT_DATA_DIR (the embedded data folder)');
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
      if (!base) throw lifeboatError('failed-precondition', 'the emulator codebase needs LIFEBOAT_UPLOAD_BASE_URL for uploads');
      return base.replace(/\/+$/, '');
    },
    // The PUTs are served by the process behind LIFEBOAT_UPLOAD_BASE_URL, never by a function.
    onComplete: async () => {},
  });
  const logger = cloudLogger;
  // There is no Firestore to fire onDocumentCreated here: the store's create hook plays it, as in
  // the embedded runtime. A CloudEvent posted to onBackupJobCreated as well enqueues the same
  // kickoff task id, which the queue treats as already done.
  let deps: EngineDeps;
  const store = withJobCreatedTrigger(withLifecycleEvents(new SqliteJobStore(db), emulatorEvents(env, logger), logger), (job) => onJobCreated(deps, job));
  deps = {
    store,
    blobs,
    queue: createTaskQueue(getFunctions(getApps()[0] ?? initializeApp()), REGION.value()),
    uploads,
    notifier: loggingNotifier(logger),
    clock: systemClock,
    logger,
    strategies: STRATEGIES,
    newId: newJobId,
    keyRing: new WrappedKeyRing(blobs, keys),
    // Restore links point at this codebase's own downloadBlob function, signed with the secret it
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
