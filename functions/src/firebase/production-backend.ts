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
import { GcsUploadSessions, MAX_SIGNED_URL_SECONDS, signedDownloadUrl } from '../adapters/gcs-upload-sessions';
import { COLLECTIONS } from '../adapters/firestore-layout';
import { blobKey, newJobId, parseMasterKey, WrappedKeyRing, type MasterKey } from '../core';
import { lifeboatError } from '../core/errors';
import { systemClock, type TaskQueue } from '../ports';
import { STRATEGIES } from '../strategies';
import type { FirebaseRuntime } from './deps';
import { cloudLogger } from './logger';
import { BUCKET, MASTER_KEY, REGION } from './params';
import { TASK_FUNCTION_NAMES, TASK_TIMEOUT_SECONDS } from './task-functions';

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
    // Restore plans hand out v4 signed URLs to content blobs (the service account needs the
    // Service Account Token Creator role on itself).
    downloads: {
      async link({ uid, blob, expiresAt }: { uid: string; blob: string; expiresAt: number }) {
        const seconds = Math.min(MAX_SIGNED_URL_SECONDS, Math.max(1, Math.ceil((expiresAt - systemClock.now()) / 1000)));
        return (await signedDownloadUrl(bucket, blobKey(uid, blob), seconds)).url;
      },
    },
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
    findSnapshotOwners: async (since, limit) => {
      const found = await db
        .collection(COLLECTIONS.snapshots)
        .where('createdAt', '>=', since)
        .orderBy('createdAt')
        .limit(limit)
        .select('uid')
        .get();
      return [...new Set(found.docs.map((d) => String(d.get('uid'))))];
    },
  };
}
