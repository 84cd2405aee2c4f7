/**
 * What the commands that read stored data open: a store, the blobs, the admin store (cross-user
 * reads, short snapshot ids) and, only when a command reads blobs, the key ring. Embedded: the
 * data folder's SQLite file and blob folder (the key ring creates the master key file on first
 * use). On Firebase (`--project`): Firestore and Cloud Storage through the Firebase adapters
 * (firebase-data.ts), with the master key from `LIFEBOAT_MASTER_KEY`.
 */
import { ContentStore, WrappedKeyRing } from '@lifeboat/engine/core';
import type { ClaimsAdmin } from '@lifeboat/engine/adapters';
import type { AdminStore, BlobStore, JobStore, TaskQueue } from '@lifeboat/engine/ports';
import { FolderBlobStore } from '../adapters/folder-blob-store';
import { SqliteAdminStore } from '../adapters/sqlite-admin-store';
import { openDatabase, type Database } from '../adapters/sqlite-database';
import { SqliteJobStore } from '../adapters/sqlite-job-store';
import { ensureDataDir, loadMasterKeys } from '../data-dir';


export interface CliData {
  /** Where the data is, for messages: the data folder, or `project P`. */
  readonly where: string;
  readonly store: JobStore;
  readonly blobs: BlobStore;
  readonly admin: AdminStore;
  /** Created (embedded) or parsed (Firebase) on first use: commands that read no blob never need it. */
  readonly keyRing: WrappedKeyRing;
  /** Blobs decrypted and hash-checked. */
  readonly content: ContentStore;
  /** The embedded runtime's own files (gc also sweeps partial uploads there). */
  readonly embedded?: { readonly dataDir: string; readonly db: Database; readonly uploadsDir: string };
  /** A deployment's own services: its task queues (rewrap-keys fans out to them) and Auth (admin claims). */
  readonly firebase?: { readonly projectId: string; readonly queue: TaskQueue; auth(): ClaimsAdmin };
  close(): Promise<void>;
}

/** The embedded data folder, opened. */
export interface EmbeddedCliData extends CliData {
  readonly dataDir: string;
  readonly db: Database;
  /** Where partial uploads live (`ResumableUploads`). */
  readonly uploadsDir: string;
  readonly store: SqliteJobStore;
  readonly blobs: FolderBlobStore;
}

export function openData(dataDir: string): EmbeddedCliData {
  const paths = ensureDataDir(dataDir);
  const db = openDatabase(paths.database);
  const blobs = new FolderBlobStore(paths.blobs);
  const store = new SqliteJobStore(db);
  const admin = new SqliteAdminStore(db);
  let keyRing: WrappedKeyRing | undefined;
  const ring = () => (keyRing ??= new WrappedKeyRing(blobs, loadMasterKeys(dataDir)));
  return {
    where: dataDir,
    dataDir,
    db,
    uploadsDir: paths.uploads,
    store,
    blobs,
    admin,
    embedded: { dataDir, db, uploadsDir: paths.uploads },
    get keyRing() {
      return ring();
    },
    get content() {
      return new ContentStore(blobs, ring());
    },
    close: async () => void db.close(),
  };
}
