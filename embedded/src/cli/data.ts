/**
 * What the commands that read stored data open: the SQLite store, the blob folder and, only when
 * a command reads blobs, the key ring (which creates the master key file on first use).
 */
import { ContentStore, WrappedKeyRing } from '@lifeboat/functions/core';
import { FolderBlobStore } from '../adapters/folder-blob-store';
import { openDatabase, type Database } from '../adapters/sqlite-database';
import { SqliteJobStore } from '../adapters/sqlite-job-store';
import { ensureDataDir, loadMasterKeys } from '../data-dir';

export interface CliData {
  readonly dataDir: string;
  readonly db: Database;
  /** Where partial uploads live (`ResumableUploads`). */
  readonly uploadsDir: string;
  readonly store: SqliteJobStore;
  readonly blobs: FolderBlobStore;
  readonly keyRing: WrappedKeyRing;
  /** Blobs decrypted and hash-checked. */
  readonly content: ContentStore;
  close(): void;
}

export function openData(dataDir: string): CliData {
  const paths = ensureDataDir(dataDir);
  const db = openDatabase(paths.database);
  const blobs = new FolderBlobStore(paths.blobs);
  let keyRing: WrappedKeyRing | undefined;
  const ring = () => (keyRing ??= new WrappedKeyRing(blobs, loadMasterKeys(dataDir)));
  return {
    dataDir,
    db,
    uploadsDir: paths.uploads,
    store: new SqliteJobStore(db),
    blobs,
    get keyRing() {
      return ring();
    },
    get content() {
      return new ContentStore(blobs, ring());
    },
    close: () => db.close(),
  };
}
