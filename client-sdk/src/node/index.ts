/**
 * Node entry point: the SDK with Node defaults. `createBackupClient` here sends over node:http(s)
 * (`nodeHttp`), opens media paths with `nodeFileSource` and hashes with `node:crypto`
 * (`nodeHasher`), unless the options say otherwise; `fileKeyValueStore(dir)` is the persistent
 * ledger storage to pass as `storage`.
 */
import { createBackupClient as createCoreClient, type BackupClient, type BackupClientOptions } from '../client';
import { nodeFileSource } from './file-source';
import { nodeHasher } from './node-hasher';
import { nodeHttp } from './node-http';

export * from '../index';
export { fileKeyValueStore } from './file-key-value-store';
export { nodeFileSource } from './file-source';
export { nodeHttp } from './node-http';
export { nodeHasher } from './node-hasher';

/**
 * `createBackupClient` with Node defaults: `http` @default nodeHttp(), `fileSource` @default
 * nodeFileSource(), `hasher` @default nodeHasher().
 */
export function createBackupClient(options: BackupClientOptions): BackupClient {
  return createCoreClient({ http: nodeHttp(), fileSource: nodeFileSource(), hasher: nodeHasher(), ...options });
}
