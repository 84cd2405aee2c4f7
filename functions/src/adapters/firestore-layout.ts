/**
 * Where the Firestore JobStore keeps each document. Under an optional root document path (for
 * tests or several deployments in one database; none by default):
 *
 * | documents   | path                                        | document id                     |
 * |-------------|---------------------------------------------|---------------------------------|
 * | jobs        | `{root}/backupJobs/{jobId}`                 | the job's id                    |
 * | chunks      | `{root}/backupJobs/{jobId}/chunks/{chunkId}`| the chunk's SHA-256             |
 * | batches     | `{root}/backupJobs/{jobId}/chunkBatches/{id}`| the batch's SHA-256            |
 * | chunk index | `{root}/users/{uid}/chunkIndex/{key}`       | the index key                   |
 * | snapshots   | `{root}/snapshots/{snapshotId}`             | the snapshot's id               |
 * | schedules   | `{root}/schedules/{scheduleId}`             | the schedule's id               |
 * | devices     | `{root}/users/{uid}/devices/{deviceId}`     | the device's id (FCM token)     |
 *
 * Document ids are the model's ids as they are whenever Firestore accepts them, which holds for
 * every id the engine makes. Anything else (a `/`, `.` or `..`, `__x__`, over 1500 bytes, or a
 * leading `~`) is stored as `~` + base64url of the id, so no id can reach another path.
 */
import { lifeboatError } from '../core/errors';

/** The collection ids, which are also the `collectionGroup` of their indexes. */
export const COLLECTIONS = {
  jobs: 'backupJobs',
  chunks: 'chunks',
  chunkBatches: 'chunkBatches',
  users: 'users',
  chunkIndex: 'chunkIndex',
  devices: 'devices',
  snapshots: 'snapshots',
  schedules: 'schedules',
} as const;

const MAX_ID_BYTES = 1500;

/**
 * The Firestore document id for a model id: the id itself when Firestore takes it as is, else
 * `~` + its base64url (see the module comment). Deterministic and one-to-one.
 */
export function documentId(id: string): string {
  const plain =
    id.length > 0 &&
    !id.includes('/') &&
    id !== '.' &&
    id !== '..' &&
    !id.startsWith('~') &&
    !/^__.*__$/.test(id) &&
    Buffer.byteLength(id, 'utf8') <= MAX_ID_BYTES;
  return plain ? id : `~${Buffer.from(id, 'utf8').toString('base64url')}`;
}

/**
 * Checks a root document path (`''`, or `a/b`, `a/b/c/d`, ...) and returns it with a trailing
 * slash, ready to put in front of a collection id.
 *
 * @throws LifeboatError `invalid-argument` for a path that does not name a document.
 */
export function checkRoot(root: string | undefined): string {
  if (root === undefined || root === '') return '';
  const segments = root.split('/');
  if (segments.length % 2 !== 0 || segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw lifeboatError('invalid-argument', `Firestore root ${JSON.stringify(root)} must be a document path (an even number of segments)`);
  }
  return `${root}/`;
}

/** The paths of the module comment under one root. */
export class FirestoreLayout {
  private readonly base: string;

  /** @param root a document path to nest everything under. @default '' (the database root) */
  constructor(root?: string) {
    this.base = checkRoot(root);
  }

  jobs(): string {
    return `${this.base}${COLLECTIONS.jobs}`;
  }

  job(jobId: string): string {
    return `${this.jobs()}/${documentId(jobId)}`;
  }

  chunks(jobId: string): string {
    return `${this.job(jobId)}/${COLLECTIONS.chunks}`;
  }

  chunk(jobId: string, chunkId: string): string {
    return `${this.chunks(jobId)}/${documentId(chunkId)}`;
  }

  chunkBatches(jobId: string): string {
    return `${this.job(jobId)}/${COLLECTIONS.chunkBatches}`;
  }

  chunkBatch(jobId: string, batchId: string): string {
    return `${this.chunkBatches(jobId)}/${documentId(batchId)}`;
  }

  chunkIndex(uid: string): string {
    return `${this.base}${COLLECTIONS.users}/${documentId(uid)}/${COLLECTIONS.chunkIndex}`;
  }

  chunkIndexEntry(uid: string, key: string): string {
    return `${this.chunkIndex(uid)}/${documentId(key)}`;
  }

  devices(uid: string): string {
    return `${this.base}${COLLECTIONS.users}/${documentId(uid)}/${COLLECTIONS.devices}`;
  }

  device(uid: string, deviceId: string): string {
    return `${this.devices(uid)}/${documentId(deviceId)}`;
  }

  snapshots(): string {
    return `${this.base}${COLLECTIONS.snapshots}`;
  }

  snapshot(snapshotId: string): string {
    return `${this.snapshots()}/${documentId(snapshotId)}`;
  }

  schedules(): string {
    return `${this.base}${COLLECTIONS.schedules}`;
  }

  schedule(scheduleId: string): string {
    return `${this.schedules()}/${documentId(scheduleId)}`;
  }
}

/**
 * Fields no query filters, orders or sums by, excluded from Firestore's automatic single-field
 * indexes (`fieldOverrides` with no indexes in firestore.indexes.json): each indexed field costs
 * two index entries per document (four per map leaf pair, one per array element), written and
 * stored with it. A map excludes everything under it.
 */
export const FIRESTORE_INDEX_EXEMPTIONS: readonly { collectionGroup: string; fieldPath: string }[] = [
  // A job's `id`, `deviceId` and `types` are filtered and ordered by only in composite indexes
  // (ADMIN_QUERIES, FIRESTORE_QUERIES), which do not need their single-field ones.
  ...['options', 'progress', 'registered', 'lastError', 'sourcesDone', 'pauseReason', 'phase', 'snapshotId', 'scheduleId', 'trigger', 'startedAt', 'finishedAt', 'heartbeatAt', 'progressAt', 'attempts', 'uploadCommitted', 'wakeUp', 'stepAttempts', 'progressFrom', 'id', 'deviceId', 'types'].map((fieldPath) => ({ collectionGroup: COLLECTIONS.jobs, fieldPath })),
  ...['stats', 'resultRef', 'uploadKey', 'error', 'type', 'deduplicated', 'updatedAt', 'uid', 'jobId', 'id'].map((fieldPath) => ({ collectionGroup: COLLECTIONS.chunks, fieldPath })),
  ...['chunks', 'uid', 'jobId', 'id', 'createdAt'].map((fieldPath) => ({ collectionGroup: COLLECTIONS.chunkBatches, fieldPath })),
  ...['stats', 'resultRef', 'items', 'skippedItems', 'createdAt', 'uid'].map((fieldPath) => ({ collectionGroup: COLLECTIONS.chunkIndex, fieldPath })),
  ...['totals', 'byType', 'changes', 'health', 'manifestRef', 'types', 'parentId', 'jobId', 'deviceId', 'verification'].map((fieldPath) => ({ collectionGroup: COLLECTIONS.snapshots, fieldPath })),
];

/** A Firestore TTL policy: documents of `collectionGroup` are deleted once their `fieldPath` (a Timestamp) has passed. */
export interface FirestoreTtlPolicy {
  collectionGroup: string;
  fieldPath: string;
  /** What it cleans up, for the doctor's report. */
  why: string;
}

/**
 * The TTL policies Lifeboat's database needs. TTL policies are set per collection group with
 * gcloud (firebase.json cannot express them), and `lifeboat doctor` checks each is active or
 * being built. None today: registration state (chunk records and batches) is deleted by finalize
 * and cancel themselves, so nothing waits for a TTL; a policy added here is checked and documented
 * (docs/firebase.md, "Its own space") without another change.
 */
export const FIRESTORE_TTL_POLICIES: readonly FirestoreTtlPolicy[] = [];
