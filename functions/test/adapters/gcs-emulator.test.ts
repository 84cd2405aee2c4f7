/**
 * The BlobStore conformance suite against GcsBlobStore on a real Cloud Storage API: the Firebase
 * Storage emulator named by FIREBASE_STORAGE_EMULATOR_HOST (`npm run test:emulators` on a machine
 * with Java 21). Each store gets its own prefix in the bucket, removed afterwards. Without the
 * variable the suite says so instead of passing silently.
 */
import { randomUUID } from 'node:crypto';
import { Storage } from '@google-cloud/storage';
import { GcsBlobStore } from '../../src/adapters';
import { describeBlobStoreConformance } from '../conformance/blob-store-conformance';

const host = process.env['FIREBASE_STORAGE_EMULATOR_HOST'];

if (host) {
  const project = process.env['GCLOUD_PROJECT'] ?? 'demo-lifeboat';
  const storage = new Storage({ apiEndpoint: host.startsWith('http') ? host : `http://${host}`, projectId: project });
  const bucket = storage.bucket(process.env['LIFEBOAT_TEST_BUCKET'] ?? `${project}.appspot.com`);
  describeBlobStoreConformance(`GcsBlobStore on the Storage emulator at ${host}`, async () => {
    const prefix = `conformance-${randomUUID()}/`;
    return {
      store: new GcsBlobStore(bucket, { prefix }),
      close: async () => {
        await bucket.deleteFiles({ prefix, force: true });
      },
    };
  });
} else {
  console.warn('Storage emulator absent (FIREBASE_STORAGE_EMULATOR_HOST unset): the BlobStore conformance suite did not run against GcsBlobStore.');
  describe('BlobStore conformance: GcsBlobStore on the Storage emulator', () => {
    it.skip('Storage emulator absent (FIREBASE_STORAGE_EMULATOR_HOST unset): conformance not run here', () => undefined);
  });
}
