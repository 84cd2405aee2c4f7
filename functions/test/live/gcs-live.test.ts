/**
 * The BlobStore conformance suite against GcsBlobStore on the live project's blobs bucket, under
 * a prefix of its own per store (deleted afterwards), so no deployment data is read or changed.
 */
import { randomUUID } from 'node:crypto';
import { Storage } from '@google-cloud/storage';
import { GcsBlobStore } from '../../src/adapters';
import { describeBlobStoreConformance } from '../conformance/blob-store-conformance';
import { describeLive } from './live-project';

describeLive('BlobStore conformance: GcsBlobStore on the live bucket', (live) => {
  const bucket = new Storage({ projectId: live.project }).bucket(live.blobsBucket);
  describeBlobStoreConformance(`GcsBlobStore on gs://${live.blobsBucket}`, async () => {
    const prefix = `lifeboat-conformance-${randomUUID()}/`;
    return { store: new GcsBlobStore(bucket, { prefix }), close: () => bucket.deleteFiles({ prefix, force: true }) };
  });
});
