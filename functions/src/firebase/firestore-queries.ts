import { ADMIN_QUERIES, CHAT_SOURCE_QUERIES, FIRESTORE_QUERIES, type FirestoreQueryIndex } from '../adapters/firestore-queries';
import { COLLECTIONS } from '../adapters/firestore-layout';

/**
 * The composite queries the functions run themselves (production-backend.ts), next to the
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

/** Every composite query of the deployment, the adapters' (the admin surface's included) then the functions' own: firestore.indexes.json holds exactly these. */
export const DEPLOYED_QUERIES: readonly (FirestoreQueryIndex & { usedBy: string })[] = [...FIRESTORE_QUERIES, ...CHAT_SOURCE_QUERIES, ...ADMIN_QUERIES, ...WIRING_QUERIES];
