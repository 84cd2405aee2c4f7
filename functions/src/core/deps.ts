import type { BlobStore, ChatSource, Clock, DeviceRegistry, DownloadLinks, JobStore, KeyRing, Logger, MediaFetcher, Notifier, TaskQueue, UploadSessions } from '../ports';
import type { MemoryBudget, Strategy } from '../strategies/strategy';
import { ContentStore } from './content-store';
import type { BackupType, MediaMode } from './model';
import type { RetryPolicy } from './retry-policy';
import type { RetentionPolicy } from './snapshots/retention';
import type { UploadLimits } from './upload-limits';
import type { UserQuotas } from './user-quotas';
import type { FairShare } from './fair-share';

/** The content store of a runtime: its blob store, with its key ring when encryption is on. */
export function contentStoreOf(deps: Pick<EngineDeps, 'blobs' | 'keyRing'>): ContentStore {
  return new ContentStore(deps.blobs, deps.keyRing);
}

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
  /** Encrypts blobs at rest with per-user data keys. @default none: blobs in the clear */
  keyRing?: KeyRing;
  /** Signed download links for restore plans. @default none: `getRestorePlan` is `unimplemented` */
  downloads?: DownloadLinks;
  /** Chats already in the app's store, read when a job asks for `serverChats`. @default none */
  chatSource?: ChatSource;
  /** Messages per server-side source page. @default 500 */
  chatSourcePageSize?: number;
  /** Fetches media chat messages refer to (SSRF policy). @default none: references are recorded, not fetched */
  mediaFetcher?: MediaFetcher;
  /**
   * How long after a job ends its user's maintenance task (retention, GC) runs; null when the
   * runtime collects otherwise (embedded: after each backup, in process). @default DEFAULT_MAINTENANCE_DELAY_SECONDS
   */
  maintenanceDelaySeconds?: number | null;
  /** Push tokens devices register (`registerDevice`). @default a BlobDeviceRegistry on `blobs` */
  devices?: DeviceRegistry;
  /** Per-user upload limits (`upload-limits.ts`). @default DEFAULT_UPLOAD_LIMITS */
  uploadLimits?: Partial<UploadLimits>;
  /** Per-user quotas (`user-quotas.ts`). @default NO_QUOTAS (none) */
  quotas?: Partial<UserQuotas>;
  /** Processing tasks one user may run at once (`fair-share.ts`). @default none: off */
  fairShare?: FairShare;
  /**
   * The memory steps run in, which image decodes are planned against (strategies/media-memory.ts).
   * @default DEFAULT_MEMORY_BUDGET (a 256 MiB Cloud Function)
   */
  memoryBudget?: MemoryBudget;
  /**
   * The media mode of backups that name none (`mediaMode` or `compressMedia`): the deployment's
   * choice (`LIFEBOAT_MEDIA_MODE` on Firebase, the embedded `mediaMode` option). @default 'original'
   */
  mediaMode?: MediaMode;
  /**
   * How long a user's deletion record stays after the deletion started, refusing new data for the
   * user while steps that were running may still write (core/deletion). Tests set 0.
   * @default DELETION_SETTLE_MS (10 minutes)
   */
  deletionSettleMs?: number;
}
