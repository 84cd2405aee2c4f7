/**
 * What a Lifeboat deployment needs from its Google Cloud project, as `lifeboat doctor` checks it
 * (docs/firebase.md, "IAM and APIs"). The task queues, indexes and TTL policies come from the
 * functions' own tables, so the doctor checks what the deployed code uses.
 */
import { CHAT_ORDER_FIELD, type FirestoreQueryIndex } from '@lifeboat/engine/adapters';
import { FIRESTORE_TTL_POLICIES, type FirestoreTtlPolicy } from '@lifeboat/engine/adapters/firestore-layout';
import { DEPLOYED_QUERIES } from '@lifeboat/engine/firebase/config/wiring-queries';
import { TASK_FUNCTION_NAMES } from '@lifeboat/engine/firebase/config/task-queues';

/** An API the deployment uses, and why. */
export interface RequiredApi {
  service: string;
  why: string;
}

/** A role the runtime service account needs on the project (or, where noted, a narrower resource). */
export interface RequiredRole {
  role: string;
  why: string;
}

export interface Requirements {
  apis: readonly RequiredApi[];
  /** Only when lifecycle events are published. */
  eventsApis: readonly RequiredApi[];
  roles: readonly RequiredRole[];
  /** Only when lifecycle events are published. */
  eventsRoles: readonly RequiredRole[];
  /** Task queue ids (the task functions' names). */
  queues: readonly string[];
  /** Composite indexes on Lifeboat's database. */
  indexes: readonly (FirestoreQueryIndex & { usedBy: string })[];
  ttlPolicies: readonly FirestoreTtlPolicy[];
  /** The master key secret's name. */
  secret: string;
}

export const REQUIREMENTS: Requirements = Object.freeze({
  apis: [
    { service: 'cloudfunctions.googleapis.com', why: 'the functions' },
    { service: 'run.googleapis.com', why: '2nd-gen functions run on Cloud Run' },
    { service: 'cloudbuild.googleapis.com', why: 'builds the functions on deploy' },
    { service: 'artifactregistry.googleapis.com', why: 'holds the functions\' images' },
    { service: 'cloudtasks.googleapis.com', why: 'the task queues' },
    { service: 'cloudscheduler.googleapis.com', why: 'the scheduled functions' },
    { service: 'pubsub.googleapis.com', why: 'scheduled functions are triggered through Pub/Sub' },
    { service: 'eventarc.googleapis.com', why: 'the Firestore and Storage triggers' },
    { service: 'firestore.googleapis.com', why: 'Lifeboat\'s database' },
    { service: 'storage.googleapis.com', why: 'the blobs and uploads buckets' },
    { service: 'firebaserules.googleapis.com', why: 'deploys the database and storage rules' },
    { service: 'firebasestorage.googleapis.com', why: 'deploys the storage rules to Lifeboat\'s buckets' },
    { service: 'fcm.googleapis.com', why: 'wakes devices for scheduled backups' },
    { service: 'secretmanager.googleapis.com', why: 'the master key secret' },
  ],
  eventsApis: [{ service: 'eventarcpublishing.googleapis.com', why: 'publishes Lifeboat\'s lifecycle events' }],
  roles: [
    { role: 'roles/cloudtasks.enqueuer', why: 'enqueue the task queues (without it no job ever starts)' },
    { role: 'roles/iam.serviceAccountUser', why: 'act as itself to sign the tasks\' OIDC tokens (on the project or on the account itself)' },
    { role: 'roles/run.invoker', why: 'Cloud Tasks calls the task functions as this account (on the project or on each task function)' },
    { role: 'roles/datastore.user', why: 'Lifeboat\'s database (and reading the app\'s chats)' },
    { role: 'roles/storage.objectAdmin', why: 'the blobs and uploads buckets (on the project or on both buckets)' },
    { role: 'roles/firebasecloudmessaging.admin', why: 'send the wake-up messages of scheduled backups' },
    { role: 'roles/logging.logWriter', why: 'write the functions\' logs' },
  ],
  eventsRoles: [{ role: 'roles/eventarc.publisher', why: 'publish lifecycle events to the channel' }],
  queues: Object.values(TASK_FUNCTION_NAMES),
  indexes: DEPLOYED_QUERIES,
  ttlPolicies: FIRESTORE_TTL_POLICIES,
  secret: 'LIFEBOAT_MASTER_KEY',
});

/** Basic roles that hold every permission the roles above grant. */
export const BROAD_ROLES: readonly string[] = ['roles/owner', 'roles/editor'];

/** The chat source's index on the app's database, for the configured messages path and field. */
export function chatSourceIndex(messagesPath: string, participantsField: string): FirestoreQueryIndex & { usedBy: string } {
  const collectionGroup = messagesPath.trim().split('/').filter(Boolean).pop() ?? 'messages';
  return {
    usedBy: 'chat source (the app\'s messages)',
    collectionGroup,
    queryScope: 'COLLECTION_GROUP',
    fields: [
      { fieldPath: participantsField.trim() || 'participants', arrayConfig: 'CONTAINS' },
      { fieldPath: CHAT_ORDER_FIELD, order: 'ASCENDING' },
    ],
  };
}
