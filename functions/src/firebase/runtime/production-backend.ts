/**
 * The production runtime: the engine over Firestore, Cloud Storage, Cloud Tasks, FCM and
 * Eventarc. The one module that constructs the Firebase adapters (functions/src/adapters).
 *
 * `createProductionRuntime(clients, config)` is the composition root; with no arguments it opens
 * the clients from firebase-admin and reads the config from the params, as a deployed function
 * does. A test hands it the SDK fakes (functions/test/adapters) and a config, and runs every
 * callable through it.
 */
import type { Firestore } from '@google-cloud/firestore';
import type { Bucket } from '@google-cloud/storage';
import { getApps, initializeApp, type App } from 'firebase-admin/app';
import type { Auth } from 'firebase-admin/auth';
import { getEventarc } from 'firebase-admin/eventarc';
import { getFirestore } from 'firebase-admin/firestore';
import { getFunctions, type Functions } from 'firebase-admin/functions';
import { getMessaging, type Messaging } from 'firebase-admin/messaging';
import { getStorage } from 'firebase-admin/storage';
import { CloudTasksQueue } from '../../adapters/cloud-tasks-queue';
import { EventarcPublisher, type EventChannel } from '../../adapters/eventarc-publisher';
import { FcmNotifier, firestoreTokenLookup } from '../../adapters/fcm-notifier';
import { FirestoreJobStore } from '../../adapters/firestore-job-store';
import { GcsBlobStore } from '../../adapters/gcs-blob-store';
import { GcsUploadSessions, UPLOADS_FOLDER } from '../../adapters/gcs-upload-sessions';
import { FirestoreChatSource } from '../../adapters/firestore-chat-source';
import { FirestoreDeviceRegistry } from '../../adapters/firestore-device-registry';
import { COLLECTIONS } from '../../adapters/firestore-layout';
import { RoutedBlobStore } from '../../adapters/routed-blob-store';
import { FirestoreAdminStore } from '../../adapters/firestore-admin-store';
import { CloudTasksMonitor } from '../../adapters/cloud-tasks-monitor';
import { adminClaimVerifier } from '../../adapters/firebase-admin-claims';
import { newJobId, parseMasterKey, withLifecycleEvents, WrappedKeyRing, type AdminDeps, type EngineDeps, type MasterKey, type UserQuotas } from '../../core';
import type { MediaMode } from '../../core/model';
import { lifeboatError } from '../../core/errors';
import { systemClock, type Logger, type TaskQueue } from '../../ports';
import { MEMORY_HEADROOM, STRATEGIES, type MemoryBudget } from '../../strategies';
import { HttpsMediaFetcher } from '../../strategies/media-fetch';
import { PRODUCTION_BASELINE_MIB } from '../config/function-resources';
import { deployedResources } from '../config/resource-params';
import { BLOBS_BUCKET, CHAT_DATABASE, CHAT_MESSAGES_PATH, CHAT_PARTICIPANTS_FIELD, DATABASE, EVENTS_CHANNEL, FAIR_SHARE, MASTER_KEY, MEDIA_HOSTS, mediaModeParam, QUOTA_BACKUPS_PER_DAY, QUOTA_BYTES_PER_JOB, QUOTA_CONCURRENT_JOBS, QUOTA_STORED_BYTES, REGION, UPLOADS_BUCKET } from '../config/params';
import { TASK_FUNCTION_NAMES } from '../config/task-queues';
import type { FirebaseRuntime } from './firebase-runtime';
import { downloadBaseUrl, downloadSecret, functionDownloadLinks } from './download-links';
import { cloudLogger } from './logger';

/** Job statuses after which garbage may be left: a snapshot replaced, or a run's blobs orphaned. */
const FINISHED: readonly string[] = ['completed', 'cancelled', 'failed'];

/** The Google clients the production runtime runs on. */
export interface ProductionClients {
  /** Lifeboat's own named database (`LIFEBOAT_DATABASE`). */
  db: Firestore;
  /** The app's database the server-side chat source reads (`LIFEBOAT_CHAT_DATABASE`), read only. */
  appDb: Firestore;
  /** Blobs, manifests, wrapped keys (`LIFEBOAT_BLOBS_BUCKET`). */
  blobsBucket: Bucket;
  /** Raw device uploads (`LIFEBOAT_UPLOADS_BUCKET`), the bucket the storage trigger watches. */
  uploadsBucket: Bucket;
  /** firebase-admin's task queues. */
  functions: Functions;
  messaging: Messaging;
  /** The Eventarc channel of `LIFEBOAT_EVENTS_CHANNEL`; null: no lifecycle events. */
  events: EventChannel | null;
  /**
   * What the admin surface needs beyond the stores: the ID-token check of the admin claim (Auth
   * loaded on first use) and an access token for the Cloud Tasks API's queue stats. @default none:
   * no admin surface (the dashboard answers 501)
   */
  admin?: {
    verifyIdToken: Auth['verifyIdToken'];
    accessToken: () => Promise<string>;
    projectId: string;
  };
}

/** What the production runtime reads from params and secrets. */
export interface ProductionConfig {
  region: string;
  /** The `LIFEBOAT_MASTER_KEY` secret: the current key, then previous ones, comma-separated. */
  masterKeys: string;
  /** The downloadBlob function's base URL (runtime/download-links.ts). */
  downloadBaseUrl: () => string;
  mediaHosts: string;
  chatMessagesPath: string;
  chatParticipantsField: string;
  /** The CloudEvent `source` of lifecycle events. */
  eventSource: string;
  /** Per-user quotas (null: none). @default none */
  quotas?: UserQuotas;
  /** Processing tasks one user may run at once (0: no limit). @default 0 */
  fairShare?: number;
  /** The media mode of backups that name none (`LIFEBOAT_MEDIA_MODE`). @default the engine's, original */
  mediaMode?: MediaMode;
}

/** The quota params (0: none) as the engine's quotas. */
export function quotasFromParams(): UserQuotas {
  const quota = (n: number) => (n > 0 ? n : null);
  return {
    storedBytes: quota(QUOTA_STORED_BYTES.value()),
    backupsPerDay: quota(QUOTA_BACKUPS_PER_DAY.value()),
    concurrentJobs: quota(QUOTA_CONCURRENT_JOBS.value()),
    bytesPerJob: quota(QUOTA_BYTES_PER_JOB.value()),
  };
}

function app(): App {
  return getApps()[0] ?? initializeApp();
}

/** The project this instance runs in, as Cloud Functions sets it. */
function projectId(): string {
  return process.env['GCLOUD_PROJECT'] ?? process.env['GOOGLE_CLOUD_PROJECT'] ?? 'unknown-project';
}

/** The clients of a deployed function: firebase-admin's, on the databases and buckets the params name. */
export function productionClients(): ProductionClients {
  const storage = getStorage(app());
  const channel = EVENTS_CHANNEL.value().trim();
  return {
    db: getFirestore(app(), DATABASE.value()),
    appDb: getFirestore(app(), CHAT_DATABASE.value()),
    blobsBucket: storage.bucket(BLOBS_BUCKET.value()),
    uploadsBucket: storage.bucket(UPLOADS_BUCKET.value()),
    functions: getFunctions(app()),
    messaging: getMessaging(app()),
    events: channel ? getEventarc(app()).channel(channel) : null,
    admin: {
      // Auth (and its JWT library) is loaded by the first dashboard call, not by every instance.
      verifyIdToken: (token, checkRevoked) => (require('firebase-admin/auth') as typeof import('firebase-admin/auth')).getAuth(app()).verifyIdToken(token, checkRevoked),
      accessToken: async () => {
        const credential = app().options.credential;
        if (!credential) throw lifeboatError('failed-precondition', 'the Firebase app has no credential to call the Cloud Tasks API with');
        return (await credential.getAccessToken()).access_token;
      },
      projectId: projectId(),
    },
  };
}

/** The config of a deployed function, from its params and secret. */
export function productionConfig(): ProductionConfig {
  return {
    region: REGION.value(),
    masterKeys: MASTER_KEY.value(),
    downloadBaseUrl: () => downloadBaseUrl(),
    mediaHosts: MEDIA_HOSTS.value(),
    chatMessagesPath: CHAT_MESSAGES_PATH.value(),
    chatParticipantsField: CHAT_PARTICIPANTS_FIELD.value(),
    eventSource: `//lifeboat/projects/${projectId()}`,
    quotas: quotasFromParams(),
    fairShare: FAIR_SHARE.value(),
    mediaMode: mediaModeParam(),
  };
}

/**
 * The master key secret: the current key, then any previous keys being rotated out,
 * comma-separated (docs/firebase.md, "Params and secrets").
 *
 * @throws LifeboatError `failed-precondition` when the secret is empty; `parseMasterKey`'s errors
 *   for a malformed key.
 */
export function parseMasterKeys(secret: string): { current: MasterKey; previous: MasterKey[] } {
  const [current, ...previous] = secret.split(',').map((k) => k.trim()).filter(Boolean);
  if (!current) throw lifeboatError('failed-precondition', 'the LIFEBOAT_MASTER_KEY secret is empty: set it with `firebase functions:secrets:set LIFEBOAT_MASTER_KEY`');
  return { current: parseMasterKey(current), previous: previous.map(parseMasterKey) };
}

/** Cloud Tasks queues of this deployment's task functions, in its region. */
export function createTaskQueue(functions: Functions, region: string): TaskQueue {
  return new CloudTasksQueue(functions, {
    region,
    functionNames: TASK_FUNCTION_NAMES,
    // A task's dispatch deadline is its function's deployed timeout (its param, read at run
    // time): Cloud Tasks waits exactly as long.
    dispatchDeadlineSeconds: (queue) => deployedResources(TASK_FUNCTION_NAMES[queue]).timeoutSeconds,
  });
}

const MIB = 1024 * 1024;

/**
 * The memory one `processChunkTask` step may plan image decodes in (strategies/media-memory.ts):
 * the function's deployed memory, and, when an instance serves several tasks at once (its
 * concurrency param), the baseline grown so that each gets an equal share of what is left.
 */
export function processChunkMemoryBudget(resources: { memoryMiB: number; concurrency: number } = deployedResources('processChunkTask')): MemoryBudget {
  const limitBytes = resources.memoryMiB * MIB;
  const baselineBytes = PRODUCTION_BASELINE_MIB * MIB;
  const perStep = (limitBytes * MEMORY_HEADROOM - baselineBytes) / resources.concurrency;
  return { limitBytes, baselineBytes: Math.round(limitBytes * MEMORY_HEADROOM - perStep) };
}

/**
 * Hosts Cloud Storage serves a project's buckets from (Firebase download URLs and the JSON/XML
 * APIs). Allowed hosts are host names, so these admit any public object on them, never a private
 * one: the fetcher sends no credentials.
 */
export const STORAGE_MEDIA_HOSTS = ['firebasestorage.googleapis.com', 'storage.googleapis.com'] as const;

/** The media allow-list: `LIFEBOAT_MEDIA_HOSTS` (comma-separated, lower-cased), then the storage hosts. */
export function mediaAllowedHosts(param: string): string[] {
  const configured = param.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
  return [...new Set([...configured, ...STORAGE_MEDIA_HOSTS])];
}

/** The app's chats, when `LIFEBOAT_CHAT_MESSAGES_PATH` names them; otherwise none. */
export function chatSourceFor(db: Firestore, messagesPath: string, participantsField: string): Pick<EngineDeps, 'chatSource'> {
  if (!messagesPath.trim()) return {};
  return { chatSource: new FirestoreChatSource(db, { messagesPath: messagesPath.trim(), participantsField: participantsField.trim() || 'participants' }) };
}

/**
 * The runtime of a deployed function. Lifeboat's documents live in its own database, its blobs and
 * raw uploads in their own buckets (one key space over both: uploads under `uploads/` route to the
 * uploads bucket); the app's database is only read, by the chat source.
 */
export function createProductionRuntime(clients: ProductionClients = productionClients(), config: ProductionConfig = productionConfig(), logger: Logger = cloudLogger): FirebaseRuntime {
  const { db } = clients;
  const blobs = new RoutedBlobStore(new GcsBlobStore(clients.blobsBucket), UPLOADS_FOLDER, new GcsBlobStore(clients.uploadsBucket));
  const firestoreStore = new FirestoreJobStore(db);
  const events = clients.events ? new EventarcPublisher(clients.events, config.eventSource) : null;
  const devices = new FirestoreDeviceRegistry(db);
  const deps: EngineDeps = {
    store: events ? withLifecycleEvents(firestoreStore, events, logger) : firestoreStore,
    blobs,
    queue: createTaskQueue(clients.functions, config.region),
    uploads: new GcsUploadSessions(clients.uploadsBucket),
    notifier: new FcmNotifier(clients.messaging, firestoreTokenLookup(db), logger, devices),
    clock: systemClock,
    logger,
    strategies: STRATEGIES,
    newId: newJobId,
    keyRing: new WrappedKeyRing(blobs, parseMasterKeys(config.masterKeys)),
    // Restore links point at the downloadBlob function, which decrypts and decodes: a signed URL
    // on the stored object would serve the encrypted, codec-framed bytes.
    downloads: functionDownloadLinks(() => downloadSecret(config.masterKeys), config.downloadBaseUrl),
    // The app's own database, read only.
    ...chatSourceFor(clients.appDb, config.chatMessagesPath, config.chatParticipantsField),
    // registerDevice writes the documents the FCM notifier's lookup reads (and forgets dead tokens in).
    devices,
    mediaFetcher: new HttpsMediaFetcher({ policy: { allowedHosts: mediaAllowedHosts(config.mediaHosts) } }),
    // Strategies run in processChunkTask (chats' referenced media too): its deployed memory is the budget.
    memoryBudget: processChunkMemoryBudget(),
    ...(config.quotas ? { quotas: config.quotas } : {}),
    ...(config.mediaMode ? { mediaMode: config.mediaMode } : {}),
    // A slot lives as long as processChunkTask may run.
    ...(config.fairShare ? { fairShare: { perUser: config.fairShare, slotSeconds: deployedResources('processChunkTask').timeoutSeconds } } : {}),
  };
  const adminClients = clients.admin;
  const admin: AdminDeps | undefined = adminClients
    ? {
        ...deps,
        admin: new FirestoreAdminStore(db),
        queues: new CloudTasksMonitor({ projectId: adminClients.projectId, region: config.region, functionNames: TASK_FUNCTION_NAMES, accessToken: adminClients.accessToken }),
      }
    : undefined;
  return {
    deps,
    ...(admin && adminClients ? { admin, adminOf: adminClaimVerifier({ verifyIdToken: adminClients.verifyIdToken }) } : {}),
    findStaleJobs: async ({ statuses, updatedBefore, limit }) => {
      const found = await db
        .collection(COLLECTIONS.jobs)
        .where('status', 'in', [...statuses])
        .where('updatedAt', '<', updatedBefore)
        .orderBy('updatedAt')
        .limit(limit)
        .select('id')
        .get();
      return found.docs.map((d) => String(d.get('id')));
    },
    findSnapshotOwners: (since, limit) => ownersSince(db, COLLECTIONS.snapshots, 'createdAt', since, limit),
    // updatedAt alone: the automatic single-field index serves it; statuses are checked here.
    findRecentJobOwners: (since, limit) => ownersSince(db, COLLECTIONS.jobs, 'updatedAt', since, limit, (status) => FINISHED.includes(status)),
  };
}

/**
 * The distinct owners (`uid`) of the first `limit` documents of `collection` whose `field` is at
 * least `since`, oldest first, keeping only documents whose `status` passes `keep` when given.
 * One range over one field: the automatic single-field index serves it.
 */
async function ownersSince(db: Firestore, collection: string, field: string, since: number, limit: number, keep?: (status: string) => boolean): Promise<string[]> {
  const found = await db
    .collection(collection)
    .where(field, '>=', since)
    .orderBy(field)
    .limit(limit)
    .select(...(keep ? ['uid', 'status'] : ['uid']))
    .get();
  const kept = keep ? found.docs.filter((d) => keep(String(d.get('status')))) : found.docs;
  return [...new Set(kept.map((d) => String(d.get('uid'))))];
}
