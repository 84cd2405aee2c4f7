/**
 * The protocol's documents as the SDK sees them (docs/protocol.md). They mirror the server's
 * zod model; the SDK declares them itself so it depends on nothing server-side.
 */
export type BackupType = 'chats' | 'media' | 'contacts' | 'deviceInfo';
export type JobStatus = 'queued' | 'running' | 'paused' | 'completed' | 'failed' | 'cancelled';
export type JobPhase = 'pending' | 'uploading' | 'processing' | 'finalizing' | 'done';
export type PauseReason = 'waiting_for_wifi' | 'battery_low' | 'storage_low' | 'waiting_for_device' | 'user';
export type Trigger = 'manual' | 'nightly' | 'weekly' | 'custom';
export type ChunkState = 'pending' | 'uploaded' | 'processed' | 'failed';
/** How photos are stored (see `BackupOptions.mediaMode`). */
export type MediaMode = 'original' | 'storageSaver';

/** A media file's name, type, times (ISO 8601) and album as the app backed it up (the manifest's `meta`). */
export interface MediaMeta {
  name?: string;
  mimeType?: string;
  takenAt?: string;
  createdAt?: string;
  modifiedAt?: string;
  album?: string;
}

/** Options of a backup; the server fills in its documented defaults for what is left out. */
export interface BackupOptions {
  wifiOnly?: boolean;
  minBatteryPercent?: number;
  requiresCharging?: boolean;
  storageNotLow?: boolean;
  /**
   * How photos are stored: `original` byte for byte (deduplicated), or `storageSaver`, images
   * re-encoded at `mediaQuality` (and `maxImageDimension`). Both keep capture date and offset,
   * camera, orientation, colour profile and, unless `stripLocation`, location.
   * @default the server's default (`original` unless the deployment chose otherwise)
   */
  mediaMode?: MediaMode;
  /** The older name of `mediaMode`: `false` is `original`, `true` is `storageSaver`. */
  compressMedia?: boolean;
  /** Remove the GPS location from photos, and nothing else. @default false */
  stripLocation?: boolean;
  /** `storageSaver`: JPEG and WebP quality, 50..85. @default 75 */
  mediaQuality?: number;
  maxMediaSizeMB?: number;
  incrementalOnly?: boolean;
  /** Scale images down to fit this many pixels (width and height) on the server. */
  maxImageDimension?: number;
  /** Region national phone numbers are read in (ISO 3166 alpha-2, e.g. `GB`). */
  phoneRegion?: string;
  /** Also back up the chats the server can read from the app's own store. */
  serverChats?: boolean;
  /**
   * Chunks are encrypted on the device and stored opaque. Set by the client from its `endToEnd`
   * option; not to be set by hand. @default false
   */
  endToEnd?: boolean;
}

export interface TypeProgress {
  items: number;
  skipped: number;
  bytes: number;
}

export interface JobProgress {
  totalChunks: number;
  uploadedChunks: number;
  processedChunks: number;
  totalItems: number;
  processedItems: number;
  skippedItems: number;
  bytesTotal: number;
  bytesUploaded: number;
  bytesDeduplicated: number;
  bytesStored: number;
  byType: Partial<Record<BackupType, TypeProgress>>;
}

export interface JobError {
  code: string;
  message: string;
  step: string;
  at: number;
  retrying: boolean;
}

export interface BackupJob {
  id: string;
  uid: string;
  deviceId: string;
  types: BackupType[];
  options: Required<BackupOptions>;
  trigger: Trigger;
  scheduleId: string | null;
  status: JobStatus;
  phase: JobPhase;
  pauseReason: PauseReason | null;
  progress: JobProgress;
  attempts: number;
  lastError: JobError | null;
  uploadCommitted: boolean;
  snapshotId: string | null;
  createdAt: number;
  updatedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  heartbeatAt: number | null;
}

export interface Snapshot {
  id: string;
  uid: string;
  jobId: string;
  deviceId: string;
  parentId: string | null;
  types: BackupType[];
  createdAt: number;
  manifestRef: string;
  totals: { items: number; skippedItems: number; chunks: number; originalBytes: number; storedBytes: number };
  byType: Partial<Record<BackupType, TypeProgress>>;
  /** `manifestDamaged`: part of the manifest is lost, so later backups do not take it as their baseline. */
  health: { checkedAt: number; ok: boolean; checkedBlobs: number; problems: number; manifestDamaged?: boolean } | null;
  /** The last verify asked through `verifySnapshot`, running or done (absent before the first). */
  verification?: SnapshotVerification;
}

export type VerifyProblemKind =
  | 'missing-manifest'
  | 'corrupt-manifest'
  | 'missing-segment'
  | 'corrupt-segment'
  | 'missing-blob'
  | 'corrupt-blob'
  | 'size-mismatch'
  | 'missing-part'
  | 'bad-segments';

/** One thing a verify found wrong, named by the blob at fault and the items it holds. */
export interface VerifyProblem {
  kind: VerifyProblemKind;
  blob: string;
  /** The items affected; from a verify the server ran in rounds, the first 20 of them. */
  items: Array<{ type: BackupType; sourceId: string }>;
  /** How many items are affected, when `items` lists only the first of them. */
  itemCount?: number;
  message: string;
}

/**
 * The result of `verifySnapshot`: problems name the blob and the items it holds.
 *
 * A verify the server finished within the call lists every problem. One it ran in rounds (a large
 * snapshot) is read back from the snapshot's verify record, which keeps only the first 100
 * problems (fewer when their messages and ids pass 256 KiB), each with its first 20 items:
 * `problemCount` always counts them all, and `ok` is `problemCount === 0`.
 */
export interface VerifyReport {
  snapshotId: string;
  ok: boolean;
  /** When the verify started. */
  checkedAt: number;
  /** Blobs the manifest references (a blob several parts of the manifest share may count more than once), and how many were read. */
  totalBlobs: number;
  checkedBlobs: number;
  checkedItems: number;
  problems: VerifyProblem[];
  problemCount: number;
}

/**
 * A verify as the server runs it in rounds, kept on its snapshot (`Snapshot.verification`): the
 * last one asked for, running, done or failed.
 */
export interface SnapshotVerification {
  status: 'running' | 'done' | 'failed';
  samplePercent: number;
  startedAt: number;
  updatedAt: number;
  nextRound: number;
  /** Where the server's next round starts (its business: a device need not read it). */
  cursor: {
    type: number;
    segment: number;
    blob: number;
    file: { type: BackupType; sourceId: string; parts: Array<{ index: number; offset: number; fileSize: number; length: number; stored: boolean; skipReason?: string }> } | null;
  } | null;
  checkedBlobs: number;
  totalBlobs: number;
  checkedItems: number;
  /** Parts of the manifest checked and in all: `checkedSegments / totalSegments` is the share done. */
  checkedSegments: number;
  totalSegments: number;
  /** The first problems (see `VerifyReport`). */
  problems: VerifyProblem[];
  problemCount: number;
  /** Why a `failed` verify stopped. */
  error?: { code: string; message: string };
}

/** Progress of a verify the server runs in rounds, as `verifySnapshot` polls it. */
export interface VerifyProgress {
  checkedBlobs: number;
  /** Blobs met so far: it grows as the manifest is read. */
  totalBlobs: number;
  checkedSegments: number;
  totalSegments: number;
}

export type ScheduleKind = 'nightly' | 'weekly' | 'custom';

/** A per-user schedule: the dispatcher turns each due run into a job waiting for the device. */
export interface Schedule {
  id: string;
  uid: string;
  deviceId: string;
  kind: ScheduleKind;
  types: BackupType[];
  options: Required<BackupOptions>;
  timeZone: string;
  everyHours: number | null;
  cron: string | null;
  enabled: boolean;
  /** Epoch ms of the next run. */
  nextRunAt: number;
  /** The run in progress: a schedule never has two at once. */
  activeJobId: string | null;
  lastRunAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/**
 * Which snapshots a user keeps (the server's `RetentionPolicy`): the newest `keepLast`, and the
 * newest of each of the last `keepDaily` days, `keepWeekly` ISO weeks and `keepMonthly` months that
 * have snapshots. Applied after each completed backup; garbage collection then frees the space.
 */
export interface RetentionPolicy {
  /** At least 1. @default 3 */
  keepLast: number;
  /** @default 7 */
  keepDaily: number;
  /** @default 4 */
  keepWeekly: number;
  /** @default 12 */
  keepMonthly: number;
}

/** The policy that applies to the caller, and whether it is the deployment's default. */
export interface RetentionPolicyResult {
  policy: RetentionPolicy;
  isDefault: boolean;
}

/** Statuses after which a job changes no more (until a retry moves a failed one). */
export const TERMINAL_STATUSES: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];

/** What `deleteMyData` has done (the server's `DeletionReport`). */
export interface DeletionReport {
  uid: string;
  /**
   * `running`: some data is left (the call ran out of time; the SDK calls again). `reclaimed`:
   * all of it is deleted and unreadable; new backups are refused until `settlesAt`, while server
   * steps that were running may still write. `done`: nothing of the user is left.
   */
  status: 'running' | 'reclaimed' | 'done';
  reason: 'user-request' | 'account-deleted' | 'admin';
  startedAt: number;
  /** When the user's data key was destroyed: from then on nothing of theirs can be read. */
  keyDestroyedAt: number | null;
  reclaimedAt: number | null;
  settlesAt: number | null;
  removed: { jobsCancelled: number; documents: number; objects: number; devices: number; uploadSessions: number };
}

/** What `deleteSnapshot` did: the record, then garbage collection of what nothing else needs. */
export interface DeleteSnapshotResult {
  snapshotId: string;
  /** False when it was already gone (deleting twice is harmless). */
  deleted: boolean;
  gc:
    | { status: 'done' | 'deferred'; deletedBlobs: number; deletedBytes: number; youngBlobs: number; stoppedEarly: boolean }
    | { status: 'skipped' | 'failed'; reason: string };
}
