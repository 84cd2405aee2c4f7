import { describeBlobStoreConformance } from '../conformance/blob-store-conformance';
import { describeJobStoreConformance } from '../conformance/job-store-conformance';
import { MemoryBlobStore } from './memory-blob-store';
import { MemoryJobStore } from './memory-job-store';

describeJobStoreConformance('MemoryJobStore', async () => ({ store: new MemoryJobStore() }));
describeBlobStoreConformance('MemoryBlobStore', async () => ({ store: new MemoryBlobStore() }));
