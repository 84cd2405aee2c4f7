/**
 * `lifeboat --project P <command>`: a deployment's data through the Firebase adapters, with
 * Application Default Credentials (`gcloud auth application-default login`, or a service account
 * key in GOOGLE_APPLICATION_CREDENTIALS). What each command reads is the same as embedded; only
 * the stores differ. Nothing here is loaded unless `--project` is given.
 *
 * - Firestore: Lifeboat's named database (`--database`, else `LIFEBOAT_DATABASE`, else `lifeboat`,
 *   as the functions' param defaults), under `--root` if the
 *   deployment nests its collections (tests do).
 * - Cloud Storage: the blobs bucket, `--bucket`, else `LIFEBOAT_BLOBS_BUCKET` (required: the param
 *   has no default). Raw uploads live in the uploads bucket, which no command reads.
 * - Master key (commands that read blobs: verify, restore, diff, gc): `LIFEBOAT_MASTER_KEY`,
 *   the secret's value (`firebase functions:secrets:access LIFEBOAT_MASTER_KEY --project P`),
 *   `NEW,OLD` during a rotation.
 * - Task queues (rewrap-keys): the task functions in `--region` (default `LIFEBOAT_REGION`, else
 *   us-central1); Cloud Tasks calls them as `--service-account` (the functions' runtime service
 *   account; the caller needs Cloud Tasks Enqueuer and Service Account User on it).
 */
import type { Firestore } from '@google-cloud/firestore';
import type { Bucket } from '@google-cloud/storage';
import { ContentStore, lifeboatError, WrappedKeyRing } from '@lifeboat/engine/core';
import { CloudTasksQueue, FirestoreAdminStore, FirestoreJobStore, GcsBlobStore } from '@lifeboat/engine/adapters';
import { parseMasterKeys } from '@lifeboat/engine/firebase/runtime/production-backend';
import { TASK_FUNCTION_NAMES, TASK_TIMEOUT_SECONDS } from '@lifeboat/engine/firebase/config/task-queues';
import type { TaskQueue } from '@lifeboat/engine/ports';
import type { ClaimsAdmin } from '@lifeboat/engine/adapters';
import type { CliData } from './data';

/** Which deployment: `--project` and its companions. */
export interface FirebaseTarget {
  projectId: string;
  bucket?: string;
  database?: string;
  region?: string;
  serviceAccount?: string;
  /** A document path the collections are nested under. @default none */
  root?: string;
}

/** The Google clients a command needs; built from ADC by {@link connectFirebase}, fakes in tests. */
export interface FirebaseClients {
  firestore: Firestore;
  bucket: Bucket;
  /** The deployment's task queues (rewrap-keys). */
  queue: TaskQueue;
  auth(): ClaimsAdmin;
  close(): Promise<void>;
}

/**
 * The bucket a deployment keeps its blobs in.
 *
 * @throws LifeboatError `invalid-argument` when neither `--bucket` nor `LIFEBOAT_BLOBS_BUCKET` names it.
 */
export function bucketOf(target: FirebaseTarget, env: NodeJS.ProcessEnv): string {
  const bucket = target.bucket ?? env['LIFEBOAT_BLOBS_BUCKET'];
  if (!bucket) throw lifeboatError('invalid-argument', `name the deployment's blobs bucket: --bucket B or LIFEBOAT_BLOBS_BUCKET (the value of the functions' param, in functions/.env.${target.projectId})`);
  return bucket;
}

/** Lifeboat's named database in a deployment. */
export function databaseOf(target: FirebaseTarget, env: NodeJS.ProcessEnv): string {
  return target.database ?? env['LIFEBOAT_DATABASE'] ?? 'lifeboat';
}

/** Real clients with Application Default Credentials. */
export function connectFirebase(target: FirebaseTarget, env: NodeJS.ProcessEnv = process.env): FirebaseClients {
  // Required here, not imported: the embedded commands never load firebase-admin.
  const { initializeApp, applicationDefault, deleteApp } = require('firebase-admin/app') as typeof import('firebase-admin/app');
  const { getFirestore } = require('firebase-admin/firestore') as typeof import('firebase-admin/firestore');
  const { getStorage } = require('firebase-admin/storage') as typeof import('firebase-admin/storage');
  const { getFunctions } = require('firebase-admin/functions') as typeof import('firebase-admin/functions');
  const app = initializeApp(
    { projectId: target.projectId, credential: applicationDefault(), ...(target.serviceAccount ? { serviceAccountId: target.serviceAccount } : {}) },
    `lifeboat-cli-${target.projectId}`,
  );
  const firestore = getFirestore(app, databaseOf(target, env));
  return {
    firestore,
    bucket: getStorage(app).bucket(bucketOf(target, env)),
    queue: new CloudTasksQueue(getFunctions(app), { region: target.region ?? env['LIFEBOAT_REGION'] ?? 'us-central1', functionNames: TASK_FUNCTION_NAMES, dispatchDeadlineSeconds: TASK_TIMEOUT_SECONDS }),
    auth: () => (require('firebase-admin/auth') as typeof import('firebase-admin/auth')).getAuth(app),
    close: () => deleteApp(app),
  };
}

/** A deployment's data, as the commands read it. */
export function openFirebaseData(target: FirebaseTarget, clients: FirebaseClients, env: NodeJS.ProcessEnv = process.env): CliData {
  const options = target.root ? { root: target.root } : {};
  const blobs = new GcsBlobStore(clients.bucket, {});
  let keyRing: WrappedKeyRing | undefined;
  const ring = (): WrappedKeyRing => {
    if (keyRing) return keyRing;
    const secret = env['LIFEBOAT_MASTER_KEY'];
    if (!secret) {
      throw lifeboatError('failed-precondition', `this command reads blobs, which needs the master key: set LIFEBOAT_MASTER_KEY to the secret's value (firebase functions:secrets:access LIFEBOAT_MASTER_KEY --project ${target.projectId})`);
    }
    return (keyRing = new WrappedKeyRing(blobs, parseMasterKeys(secret)));
  };
  return {
    where: `project ${target.projectId}`,
    store: new FirestoreJobStore(clients.firestore, options),
    blobs,
    admin: new FirestoreAdminStore(clients.firestore, options),
    get keyRing() {
      return ring();
    },
    get content() {
      return new ContentStore(blobs, ring());
    },
    firebase: { projectId: target.projectId, queue: clients.queue, auth: () => clients.auth() },
    close: () => clients.close(),
  };
}
