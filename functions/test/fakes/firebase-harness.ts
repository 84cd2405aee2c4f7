/**
 * The engine on the Firebase adapters over the SDK fakes: FirestoreJobStore and the admin store on
 * FakeFirestore, GcsBlobStore on FakeBucket, with the harness's queue and upload sessions (the
 * fakes have no Cloud Tasks nor resumable uploads to play). What the admin surface and the CLI's
 * `--project` run against in tests, since the network to Google is closed here.
 */
import { FirestoreAdminStore } from '../../src/adapters/firestore-admin-store';
import { FirestoreJobStore } from '../../src/adapters/firestore-job-store';
import { GcsBlobStore } from '../../src/adapters/gcs-blob-store';
import type { AdminDeps } from '../../src/core/admin';
import { WrappedKeyRing, type WrappedKeyRingOptions } from '../../src/core/encryption/wrapped-key-ring';
import { QUEUE_NAMES, type QueueMonitor } from '../../src/ports';
import { FakeBucket } from '../adapters/fake-bucket';
import { FakeFirestore } from '../adapters/fake-firestore';
import { createHarness, type Harness, type HarnessOverrides } from './engine-harness';

export interface FirebaseHarness extends Harness {
  firestore: FakeFirestore;
  bucket: FakeBucket;
  admin: AdminDeps;
}

/** The harness's queue as a monitor: what is pending per queue (it keeps no history). */
function pendingMonitor(h: Harness): QueueMonitor {
  return {
    async overview() {
      const queues = QUEUE_NAMES.map((name) => ({ name, depth: h.queue.pending.filter((t) => t.queue === name).length, running: 0 }));
      return { at: h.clock.now(), queues, dropped: [] };
    },
  };
}

/**
 * @param overrides.masterKeys encrypt at rest with these master keys (a WrappedKeyRing on the fake
 *   bucket, as production wires it). @default none: blobs in the clear
 */
export function createFirebaseHarness(overrides: Omit<HarnessOverrides, 'store' | 'blobs' | 'keyRing'> & { masterKeys?: WrappedKeyRingOptions } = {}): FirebaseHarness {
  const firestore = new FakeFirestore();
  const bucket = new FakeBucket();
  const blobs = new GcsBlobStore(bucket.asBucket());
  const { masterKeys, ...rest } = overrides;
  const h = createHarness({ ...rest, store: new FirestoreJobStore(firestore.asFirestore()), blobs, ...(masterKeys ? { keyRing: new WrappedKeyRing(blobs, masterKeys) } : {}) });
  const admin: AdminDeps = { ...h.deps, admin: new FirestoreAdminStore(firestore.asFirestore()), queues: pendingMonitor(h) };
  return { ...h, firestore, bucket, admin };
}
