import type { BlobStore, Clock, JobStore, KeyRing, Logger, Notifier, TaskQueue, UploadSessions } from '../ports';
import type { Strategy } from '../strategies/strategy';
import { ContentStore } from './content-store';
import type { BackupType } from './model';
import type { RetryPolicy } from './retry-policy';
import type { RetentionPolicy } from './snapshots/retention';

/** Everything the engine's handlers use; each runtime wires its own adapters in. */
/** The content store of a runtime: its blob store, with its key ring when encryption is on. */
export function contentStoreOf(deps: Pick<EngineDeps, 'blobs' | 'keyRing'>): ContentStore {
  return new ContentStore(deps.blobs, deps.keyRing);
}

export interface EngineDeps {
  store: JobStore;
  blobs: BlobStore;
  queue: TaskQueue;
  uploads: UploadSessions;
  notifier: Notifier;
  clock: Clock;
  logger: Logger;
  strategies: Readonly<Partial<Record<BackupType, Strategy>>>;
  /** New random ids for jobs (URL-safe, 8..64 characters). */
  newId(): string;
  /** @default DEFAULT_RETRY_POLICY */
  retryPolicy?: RetryPolicy;
  /** Applied to a user's snapshots after each completed backup. @default DEFAULT_RETENTION */
  retention?: RetentionPolicy;
  /** Encrypts blobs at rest with per-user data keys. @default none: blobs in the clear */
  keyRing?: KeyRing;
}
