import type { BlobStore, Clock, JobStore, Logger, Notifier, TaskQueue, UploadSessions } from '../ports';
import type { Strategy } from '../strategies/strategy';
import type { BackupType } from './model';
import type { RetryPolicy } from './retry-policy';
import type { RetentionPolicy } from './snapshots/retention';

/** Everything the engine's handlers use; each runtime wires its own adapters in. */
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
}
