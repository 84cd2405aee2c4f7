/**
 * The SDK's public runtime API, listed exactly: an export added to or dropped from an entry point
 * by accident fails here (a deliberate change updates the list, client-sdk/README.md and the
 * CHANGELOG). Types are not listed: they vanish at run time.
 */
import * as core from '../src';
import * as node from '../src/node';

const CORE = [
  'BACKUP_ERROR_CODES',
  'BackupClientError',
  'DEFAULT_MIN_FREE_STORAGE_BYTES',
  'DEFAULT_TRANSPORT_RETRY',
  'MAX_MEDIA_CHUNK_BYTES',
  'RestoreNames',
  'TERMINAL_STATUSES',
  'blobFileSource',
  'chatChunks',
  'contactChunks',
  'createBackupClient',
  'deviceInfoChunk',
  'fetchHttp',
  'memoryKeyValueStore',
  'nobleHasher',
  'restoreFileName',
];

const NODE_ONLY = ['fileKeyValueStore', 'nodeFileSource', 'nodeHasher', 'nodeHttp'];

describe('public exports', () => {
  it('of @lifeboat/client-sdk are exactly the listed ones', () => {
    expect(Object.keys(core).sort()).toEqual(CORE);
  });

  it('of @lifeboat/client-sdk/node are the core ones plus the Node ports, with its own createBackupClient', () => {
    expect(Object.keys(node).sort()).toEqual([...CORE, ...NODE_ONLY].sort());
    expect(node.createBackupClient).not.toBe(core.createBackupClient);
    expect(node.BackupClientError).toBe(core.BackupClientError);
  });
});
