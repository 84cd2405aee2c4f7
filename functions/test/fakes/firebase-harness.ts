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
import type { EngineDeps } from '../../src/core/deps';
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

export function createFirebaseHarness(overrides: Omit<HarnessOverrides, 'store' | 'blobs'> & { keyRing?: EngineDeps['keyRing'] } = {}): FirebaseHarness {
  const firestore = new FakeFirestore();
  const bucket = new FakeBucket();
  const h = createHarness({ ...overrides, store: new FirestoreJobStore(firestore.asFirestore()), blobs: new GcsBlobStore(bucket.asBucket()) });
  const admin: AdminDeps = { ...h.deps, admin: new FirestoreAdminStore(firestore.asFirestore()), queues: pendingMonitor(h) };
  return { ...h, firestore, bucket, admin };
}
