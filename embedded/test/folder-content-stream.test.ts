import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeContentStreaming } from '../../functions/test/conformance/content-stream-conformance';
import { FolderBlobStore } from '../src/adapters';

describeContentStreaming('FolderBlobStore', async () => {
  const root = mkdtempSync(join(tmpdir(), 'lifeboat-content-'));
  const store = new FolderBlobStore(root);
  return {
    store,
    async overwrite(key, bytes) {
      await store.delete(key);
      await store.put(key, bytes);
    },
    close: () => rmSync(root, { recursive: true, force: true }),
  };
});
