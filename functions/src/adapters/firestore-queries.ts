/**
 * The composite indexes the Firestore JobStore's queries need, in the shape of
 * `firestore.indexes.json` entries, so a test can check that file covers every one.
 *
 * Every query is over a single collection. The ones not listed need no composite index:
 * - a job's chunks: `orderBy('index')` then document id, served by the automatic single-field
 *   index (Firestore orders by document id last anyway);
 * - a user's schedules: `where('uid', '==', uid)`, single-field;
 * - chunk index lookups and every `get` by id: document reads, no query.
 */
import { COLLECTIONS } from './firestore-layout';

export interface FirestoreIndexField {
  fieldPath: string;
  order?: 'ASCENDING' | 'DESCENDING';
  arrayConfig?: 'CONTAINS';
}

/** One composite index, as `firestore.indexes.json` writes it. */
export interface FirestoreQueryIndex {
  collectionGroup: string;
  queryScope: 'COLLECTION';
  fields: FirestoreIndexField[];
}

/** Each composite query the store runs: which method, and the index it needs. */
export const FIRESTORE_QUERIES: readonly (FirestoreQueryIndex & { usedBy: string })[] = [
  {
    usedBy: 'listJobs',
    collectionGroup: COLLECTIONS.jobs,
    queryScope: 'COLLECTION',
    fields: [
      { fieldPath: 'uid', order: 'ASCENDING' },
      { fieldPath: 'createdAt', order: 'DESCENDING' },
      { fieldPath: 'id', order: 'DESCENDING' },
    ],
  },
  {
    usedBy: 'listJobs with status',
    collectionGroup: COLLECTIONS.jobs,
    queryScope: 'COLLECTION',
    fields: [
      { fieldPath: 'uid', order: 'ASCENDING' },
      { fieldPath: 'status', order: 'ASCENDING' },
      { fieldPath: 'createdAt', order: 'DESCENDING' },
      { fieldPath: 'id', order: 'DESCENDING' },
    ],
  },
  {
    usedBy: 'listSnapshots',
    collectionGroup: COLLECTIONS.snapshots,
    queryScope: 'COLLECTION',
    fields: [
      { fieldPath: 'uid', order: 'ASCENDING' },
      { fieldPath: 'createdAt', order: 'DESCENDING' },
      { fieldPath: 'id', order: 'DESCENDING' },
    ],
  },
  {
    usedBy: 'listDueSchedules',
    collectionGroup: COLLECTIONS.schedules,
    queryScope: 'COLLECTION',
    fields: [
      { fieldPath: 'enabled', order: 'ASCENDING' },
      { fieldPath: 'nextRunAt', order: 'ASCENDING' },
    ],
  },
];
