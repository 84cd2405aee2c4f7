import { describeContentStreaming } from '../conformance/content-stream-conformance';
import { MemoryBlobStore } from '../fakes/memory-blob-store';

describeContentStreaming('the memory blob store', async () => {
  const store = new MemoryBlobStore();
  return {
    store,
    async overwrite(key, bytes) {
      await store.delete(key);
      await store.put(key, bytes);
    },
  };
});
