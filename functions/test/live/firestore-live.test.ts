/**
 * The JobStore conformance suite against FirestoreJobStore on the live project's named database,
 * under a root document of its own per store (removed afterwards), so no deployment data is read
 * or changed. The composite indexes it needs are the deployed ones (same collection groups).
 */
import { randomUUID } from 'node:crypto';
import { Firestore } from '@google-cloud/firestore';
import { FirestoreJobStore } from '../../src/adapters';
import { describeJobStoreConformance } from '../conformance/job-store-conformance';
import { describeLive } from './live-project';

describeLive('JobStore conformance: FirestoreJobStore on the live database', (live) => {
  const db = new Firestore({ projectId: live.project, databaseId: live.database });
  afterAll(() => db.terminate());
  describeJobStoreConformance(`FirestoreJobStore on ${live.project}/${live.database}`, async () => {
    const root = `lifeboat-conformance/${randomUUID()}`;
    return { store: new FirestoreJobStore(db, { root }), close: () => db.recursiveDelete(db.doc(root)) };
  });
});
