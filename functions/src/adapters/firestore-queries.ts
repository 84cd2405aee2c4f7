/**
 * The composite indexes the Firestore JobStore's queries need, in the shape of
 * `firestore.indexes.json` entries, so a test can check that file covers every one.
 *
 * Every store query is over a single collection (the chat source's collection-group query is
 * CHAT_SOURCE_QUERIES, below). The ones not listed need no composite index:
 * - a job's chunks: `orderBy('index')` then document id, served by the automatic single-field
 *   index (Firestore orders by document id last anyway); its batches by `firstIndex` likewise;
 * - a user's schedules: `where('uid', '==', uid)`, single-field;
 * - chunk index lookups and every `get` by id: document reads, no query.
 */
import { CHAT_ORDER_FIELD } from './firestore-chat-source';
import { COLLECTIONS } from './firestore-layout';

export interface FirestoreIndexField {
  fieldPath: string;
  order?: 'ASCENDING' | 'DESCENDING';
  arrayConfig?: 'CONTAINS';
}

/** One composite index, as `firestore.indexes.json` writes it. */
export interface FirestoreQueryIndex {
  collectionGroup: string;
  queryScope: 'COLLECTION' | 'COLLECTION_GROUP';
  fields: FirestoreIndexField[];
}

/**
 * The index of a user's documents newest first, ties by id (FirestoreJobStore's
 * `ownedNewestFirst`), with equality filters on `equalities` after `uid`.
 */
function ownedNewestFirst(usedBy: string, collectionGroup: string, ...equalities: string[]): FirestoreQueryIndex & { usedBy: string } {
  return {
    usedBy,
    collectionGroup,
    queryScope: 'COLLECTION',
    fields: [
      { fieldPath: 'uid', order: 'ASCENDING' },
      ...equalities.map((fieldPath) => ({ fieldPath, order: 'ASCENDING' as const })),
      { fieldPath: 'createdAt', order: 'DESCENDING' },
      { fieldPath: 'id', order: 'DESCENDING' },
    ],
  };
}

/** Documents of every user newest first, ties by id, after an optional first field. */
function newestFirst(usedBy: string, collectionGroup: string, ...first: FirestoreIndexField[]): FirestoreQueryIndex & { usedBy: string } {
  return {
    usedBy,
    collectionGroup,
    queryScope: 'COLLECTION',
    fields: [...first, { fieldPath: 'createdAt', order: 'DESCENDING' }, { fieldPath: 'id', order: 'DESCENDING' }],
  };
}

/** Each composite query the store runs: which method, and the index it needs. */
export const FIRESTORE_QUERIES: readonly (FirestoreQueryIndex & { usedBy: string })[] = [
  ownedNewestFirst('listJobs', COLLECTIONS.jobs),
  ownedNewestFirst('listJobs with status', COLLECTIONS.jobs, 'status'),
  ownedNewestFirst('listSnapshots', COLLECTIONS.snapshots),
  // chunkTotals: an equality filter on `state` with sums over these fields (aggregation queries
  // scan an index holding both the filtered and the summed field).
  ...(['items', 'size', 'processedItems', 'skippedItems', 'storedBytes'] as const).map((field) => ({
    usedBy: `chunkTotals sum(${field})`,
    collectionGroup: COLLECTIONS.chunks,
    queryScope: 'COLLECTION' as const,
    fields: [
      { fieldPath: 'state', order: 'ASCENDING' as const },
      { fieldPath: field, order: 'ASCENDING' as const },
    ],
  })),
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

/**
 * The admin surface's queries across users (firestore-admin-store.ts): every user's jobs newest
 * first, alone or with one of the filters `jobQueryPlan` picks (the others are applied to the
 * documents read), and every user's snapshots newest first. A user's jobs and snapshots (with or
 * without status) use the store's own indexes above; the user listing (`orderBy('uid')`), status
 * counts, snapshot counts, id prefixes and queue samples use automatic single-field indexes.
 */
export const ADMIN_QUERIES: readonly (FirestoreQueryIndex & { usedBy: string })[] = [
  ownedNewestFirst('admin listJobs by user and device', COLLECTIONS.jobs, 'deviceId'),
  newestFirst('admin listJobs by status', COLLECTIONS.jobs, { fieldPath: 'status', order: 'ASCENDING' }),
  newestFirst('admin listJobs by type', COLLECTIONS.jobs, { fieldPath: 'types', arrayConfig: 'CONTAINS' }),
  newestFirst('admin listJobs', COLLECTIONS.jobs),
  newestFirst('admin listSnapshots', COLLECTIONS.snapshots),
];

/**
 * The chat source's query (firestore-chat-source.ts): a collection-group query over the app's
 * messages, with the default config (`LIFEBOAT_CHAT_MESSAGES_PATH`
 * `conversations/{conversationId}/messages`, `LIFEBOAT_CHAT_PARTICIPANTS_FIELD` `participants`).
 * A deployment with other names edits this entry of firestore.indexes.json to match.
 */
export const CHAT_SOURCE_QUERIES: readonly (FirestoreQueryIndex & { usedBy: string })[] = [
  {
    usedBy: 'chat source (FirestoreChatSource.listMessages)',
    collectionGroup: 'messages',
    queryScope: 'COLLECTION_GROUP',
    fields: [
      { fieldPath: 'participants', arrayConfig: 'CONTAINS' },
      { fieldPath: CHAT_ORDER_FIELD, order: 'ASCENDING' },
    ],
  },
];


export { FIRESTORE_INDEX_EXEMPTIONS } from './firestore-layout';
