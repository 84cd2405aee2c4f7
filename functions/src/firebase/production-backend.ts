/**
 * The production backend: the engine over Firestore, Cloud Storage, Cloud Tasks and FCM. The one
 * module that constructs the Firebase adapters (functions/src/adapters).
 */
import { getApps, initializeApp, type App } from 'firebase-admin/app';
import { getFirestore, type Firestore } from 'firebase-admin/firestore';
import { getFunctions } from 'firebase-admin/functions';
import { getMessaging } from 'firebase-admin/messaging';
import { getStorage } from 'firebase-admin/storage';
import { CloudTasksQueue } from '../adapters/cloud-tasks-queue';
import { FcmNotifier, firestoreTokenLookup } from '../adapters/fcm-notifier';
import { FirestoreJobStore } from '../adapters/firestore-job-store';
import { GcsBlobStore } from '../adapters/gcs-blob-store';
import { GcsUploadSessions } from '../adapters/gcs-upload-sessions';
import { FirestoreChatSource } from '../adapters/firestore-chat-source';
import { FirestoreDeviceRegistry } from '../adapters/firestore-device-registry';
import { COLLECTIONS } from '../adapters/firestore-layout';
import { newJobId, parseMasterKey, WrappedKeyRing, type EngineDeps, type MasterKey } from '../core';
import { lifeboatError } from '../core/errors';
import { systemClock, type TaskQueue } from '../ports';
import { STRATEGIES } from '../strategies';
import { HttpsMediaFetcher } from '../strategies/media-fetch';
import type { FirebaseRuntime } from './deps';
import { cloudLogger } from './logger';
import { downloadBaseUrl, downloadSecret, functionDownloadLinks } from './download-blob';
import { memoryMiB, PRODUCTION_BASELINE_MIB } from './function-resources';
import { BUCKET, CHAT_MESSAGES_PATH, CHAT_PARTICIPANTS_FIELD, MASTER_KEY, MEDIA_HOSTS, mediaModeParam, REGION } from './params';
import { TASK_FUNCTION_NAMES, TASK_TIMEOUT_SECONDS } from './task-functions';

/** Job statuses after which garbage may be left: a snapshot replaced, or a run's blobs orphaned. */
const FINISHED: readonly string[] = ['completed', 'cancelled', 'failed'];

function app(): App {
  return getApps()[0] ?? initializeApp();
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
export function createTaskQueue(): TaskQueue {
  return new CloudTasksQueue(getFunctions(app()), {
    region: REGION.value(),
    functionNames: TASK_FUNCTION_NAMES,
    // A task's dispatch deadline is its function's timeout: Cloud Tasks waits exactly as long.
    dispatchDeadlineSeconds: TASK_TIMEOUT_SECONDS,
  });
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

export function createProductionRuntime(): FirebaseRuntime {
  const db: Firestore = getFirestore(app());
  const bucket = getStorage(app()).bucket(BUCKET.value());
  const blobs = new GcsBlobStore(bucket);
  const deps = {
    store: new FirestoreJobStore(db),
    blobs,
    queue: createTaskQueue(),
    uploads: new GcsUploadSessions(bucket),
    notifier: new FcmNotifier(getMessaging(app()), firestoreTokenLookup(db), cloudLogger),
    clock: systemClock,
    logger: cloudLogger,
    strategies: STRATEGIES,
    newId: newJobId,
    keyRing: new WrappedKeyRing(blobs, parseMasterKeys(MASTER_KEY.value())),
    // Restore links point at the downloadBlob function, which decrypts and decodes: a signed URL
    // on the stored object would serve the encrypted, codec-framed bytes.
    downloads: functionDownloadLinks(downloadSecret, downloadBaseUrl),
    ...chatSourceFor(db, CHAT_MESSAGES_PATH.value(), CHAT_PARTICIPANTS_FIELD.value()),
    // registerDevice writes the documents the FCM notifier's lookup reads.
    devices: new FirestoreDeviceRegistry(db),
    mediaFetcher: new HttpsMediaFetcher({ policy: { allowedHosts: mediaAllowedHosts(MEDIA_HOSTS.value()) } }),
    // Strategies run in processChunkTask (chats' referenced media too): its memory is the budget.
    memoryBudget: { limitBytes: memoryMiB('processChunkTask') * 1024 * 1024, baselineBytes: PRODUCTION_BASELINE_MIB * 1024 * 1024 },
    mediaMode: mediaModeParam(),
  };
  return {
    deps,
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
