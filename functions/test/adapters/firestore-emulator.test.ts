/**
 * The JobStore conformance suite against FirestoreJobStore on a real Firestore: the emulator
 * named by FIRESTORE_EMULATOR_HOST (`npm run test:emulators` on a machine with Java 21). Each
 * store gets its own root document, so tests never see each other's documents. Without the
 * variable the suite says so instead of passing silently.
 */
import { randomUUID } from 'node:crypto';
import { Firestore } from '@google-cloud/firestore';
import { FirestoreJobStore } from '../../src/adapters';
import { FirestoreAdminStore } from '../../src/adapters/firestore-admin-store';
import { describeAdminStoreConformance } from '../conformance/admin-store-conformance';
import { describeJobStoreConformance } from '../conformance/job-store-conformance';

const host = process.env['FIRESTORE_EMULATOR_HOST'];

if (host) {
  // The SDK connects to the emulator by itself when FIRESTORE_EMULATOR_HOST is set.
  const db = new Firestore({ projectId: process.env['GCLOUD_PROJECT'] ?? 'demo-lifeboat' });
  afterAll(() => db.terminate());
  describeJobStoreConformance(`FirestoreJobStore on the Firestore emulator at ${host}`, async () => ({
    store: new FirestoreJobStore(db, { root: `conformance/${randomUUID()}` }),
  }));
  describeAdminStoreConformance(`FirestoreAdminStore on the Firestore emulator at ${host}`, async () => {
    const root = `conformance/${randomUUID()}`;
    return { admin: new FirestoreAdminStore(db, { root }), jobs: new FirestoreJobStore(db, { root }) };
  });
} else {
  console.warn('Firestore emulator absent (FIRESTORE_EMULATOR_HOST unset): the JobStore conformance suite did not run against FirestoreJobStore.');
  describe('JobStore conformance: FirestoreJobStore on the Firestore emulator', () => {
    it.skip('Firestore emulator absent (FIRESTORE_EMULATOR_HOST unset): conformance not run here', () => undefined);
  });
}
