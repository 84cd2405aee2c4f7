import { ADMIN_QUERIES, CHAT_SOURCE_QUERIES, FIRESTORE_QUERIES, type FirestoreQueryIndex } from '../../adapters/firestore-queries';
import { COLLECTIONS } from '../../adapters/firestore-layout';

/**
 * The composite queries the functions run themselves (runtime/production-backend.ts), next to the
 * store's FIRESTORE_QUERIES, so the index test checks firestore.indexes.json covers both. The
 * retention catch-up (`createdAt >= since`, ordered by `createdAt`) uses the automatic
 * single-field index and needs none.
 */
export const WIRING_QUERIES: readonly (FirestoreQueryIndex & { usedBy: string })[] = [
  {
    usedBy: 'sweepStaleJobs: status in [queued, running], updatedAt < bound, orderBy updatedAt',
    collectionGroup: COLLECTIONS.jobs,
    queryScope: 'COLLECTION',
    fields: [
      { fieldPath: 'status', order: 'ASCENDING' },
      { fieldPath: 'updatedAt', order: 'ASCENDING' },
    ],
  },
];

/**
 * Every composite query on Lifeboat's own database, the store's (the admin surface's included)
 * then the functions' own:
 * firestore.indexes.json holds exactly these, and firebase.json deploys it to that database alone.
 */
export const DEPLOYED_QUERIES: readonly (FirestoreQueryIndex & { usedBy: string })[] = [...FIRESTORE_QUERIES, ...ADMIN_QUERIES, ...WIRING_QUERIES];

/**
 * The composite queries on the app's own database (`LIFEBOAT_CHAT_DATABASE`): the server-side chat
 * source's. Lifeboat never deploys indexes there (a deploy would offer to delete the app's own);
 * the admin creates this one (docs/firebase.md, "Its own space") and `lifeboat doctor` checks it.
 */
export const APP_DATABASE_QUERIES: readonly (FirestoreQueryIndex & { usedBy: string })[] = [...CHAT_SOURCE_QUERIES];
