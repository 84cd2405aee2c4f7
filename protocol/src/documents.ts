/**
 * The documents of the protocol: what the callables take and give back (jobs, snapshots,
 * schedules, verify records, manifest items), shared by the server, which stores them, and the
 * SDK, which parses every answer with them. Timestamps are epoch milliseconds so a document reads
 * the same from SQLite and Firestore.
 */
// A namespace import: bundlers keep only the parts of zod used (`import { z }` keeps all of it, locales included).
import * as z from 'zod';

export const BACKUP_TYPES = ['chats', 'media', 'contacts', 'deviceInfo'] as const;
export const BackupType = z.enum(BACKUP_TYPES);
export type BackupType = z.infer<typeof BackupType>;

export const JOB_STATUSES = ['queued', 'running', 'paused', 'completed', 'failed', 'cancelled'] as const;
export const JobStatus = z.enum(JOB_STATUSES);
export type JobStatus = z.infer<typeof JobStatus>;

/** Statuses a job never leaves. */
export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set(['completed', 'cancelled']);

/**
 * Where a job is within its run: `pending` before kickoff, `uploading` while the device sends
 * chunks, `processing` once the device committed and chunks are still being processed,
 * `finalizing` while the snapshot is written, `done` after.
 */
export const JOB_PHASES = ['pending', 'uploading', 'processing', 'finalizing', 'done'] as const;
export const JobPhase = z.enum(JOB_PHASES);
export type JobPhase = z.infer<typeof JobPhase>;

export const PAUSE_REASONS = [
  'waiting_for_wifi',
  'battery_low',
  'storage_low',
  'waiting_for_device',
  'user',
] as const;
export const PauseReason = z.enum(PAUSE_REASONS);
export type PauseReason = z.infer<typeof PauseReason>;

export const TRIGGERS = ['manual', 'nightly', 'weekly', 'custom'] as const;
export const Trigger = z.enum(TRIGGERS);
export type Trigger = z.infer<typeof Trigger>;

const clampQuality = (q: number): number => Math.min(85, Math.max(50, Math.round(q)));

/** How photos are stored: byte for byte, or re-encoded to save space (docs/media.md). */
export const MEDIA_MODES = ['original', 'storageSaver'] as const;
export const MediaMode = z.enum(MEDIA_MODES);
export type MediaMode = z.infer<typeof MediaMode>;

/** The media mode of a backup that names none, unless the deployment chooses another. */
export const DEFAULT_MEDIA_MODE: MediaMode = 'original';

/** Options of one backup. Every field has a safe default, so `{}` is a valid input. */
export const BackupOptions = z.strictObject({
  /** Upload only on an unmetered network. @default true */
  wifiOnly: z.boolean().default(true),
  /** Minimum battery level to upload, ignored while charging. @default 20 */
  minBatteryPercent: z.number().int().min(0).max(100).default(20),
  /** Upload only while charging. @default false */
  requiresCharging: z.boolean().default(false),
  /** Do not upload while the device is low on storage. @default true */
  storageNotLow: z.boolean().default(true),
  /**
   * How photos are stored (docs/media.md): `original` keeps every file byte for byte
   * (deduplicated); `storageSaver` re-encodes JPEG, PNG and WebP images at `mediaQuality` (and
   * `maxImageDimension`), keeping the original when that is not smaller. Both keep what makes a
   * photo library a library: capture date and time zone offset, camera, orientation (normalized
   * when re-encoded), colour profile and, unless `stripLocation`, location. A job always records
   * the mode it ran in; jobs created before it existed record `compressMedia` alone.
   * @default the server's default mode (`LIFEBOAT_MEDIA_MODE`, the embedded `mediaMode` option: `original`)
   */
  mediaMode: MediaMode.optional(),
  /**
   * The older name of `mediaMode`, still accepted: `false` is `original`, `true` is
   * `storageSaver`; given with a `mediaMode` it must agree with it (`invalid-argument`).
   * @default follows mediaMode
   */
  compressMedia: z.boolean().optional(),
  /**
   * Remove the GPS location from photos, and nothing else: in `original` mode the pixels and
   * every other byte stay as they are. @default false
   */
  stripLocation: z.boolean().optional(),
  /** JPEG/WebP quality for re-encoded media (`storageSaver`), clamped to 50..85. @default 75 */
  mediaQuality: z.number().finite().default(75).transform(clampQuality),
  /** Media items larger than this are skipped with a recorded reason. @default 500 */
  maxMediaSizeMB: z.number().positive().max(10_240).default(500),
  /** Back up only what changed since the last snapshot. @default false */
  incrementalOnly: z.boolean().default(false),
  /** `storageSaver`: images larger than this (width or height, pixels) are scaled down to fit. @default none */
  maxImageDimension: z.number().int().min(64).max(20_000).optional(),
  /** Region national phone numbers are read in (ISO 3166 alpha-2, e.g. `GB`). @default none */
  phoneRegion: z.string().regex(/^[A-Z]{2}$/).optional(),
  /** Also read the chats that already live in the app's store (the server's ChatSource). @default false */
  serverChats: z.boolean().optional(),
  /**
   * The device encrypted every chunk end to end (docs/invariants.md, "End-to-end encryption"):
   * the server stores chunks as opaque blobs and never parses, compresses or re-encodes them.
   * @default false
   */
  endToEnd: z.boolean().optional(),
});
export type BackupOptions = z.infer<typeof BackupOptions>;
export type BackupOptionsInput = z.input<typeof BackupOptions>;

const count = z.number().int().nonnegative();

export const TypeProgress = z.object({ items: count, skipped: count, bytes: count });
export type TypeProgress = z.infer<typeof TypeProgress>;

/**
 * Live counters of a job. They are written once per chunk event (registered, uploaded, processed),
 * never once per item.
 */
export const JobProgress = z.object({
  /** Chunks the device registered. */
  totalChunks: count,
  /**
   * Chunks whose bytes reached the server and were taken in (processed), deduplicated ones
   * included: an upload writes no document, so bytes waiting for their processing show with it.
   */
  uploadedChunks: count,
  processedChunks: count,
  /** Items the device registered across all chunks. */
  totalItems: count,
  processedItems: count,
  skippedItems: count,
  /** Raw bytes of all registered chunks. */
  bytesTotal: count,
  /** Raw bytes actually sent by the device. */
  bytesUploaded: count,
  /** Raw bytes the device did not send because the server already had the chunk. */
  bytesDeduplicated: count,
  /** Bytes newly written to the blob store by this job (after compression and dedup). */
  bytesStored: count,
  byType: z.partialRecord(BackupType, TypeProgress),
});
export type JobProgress = z.infer<typeof JobProgress>;

export function emptyProgress(): JobProgress {
  return {
    totalChunks: 0,
    uploadedChunks: 0,
    processedChunks: 0,
    totalItems: 0,
    processedItems: 0,
    skippedItems: 0,
    bytesTotal: 0,
    bytesUploaded: 0,
    bytesDeduplicated: 0,
    bytesStored: 0,
    byType: {},
  };
}

export const JobError = z.object({
  code: z.string(),
  message: z.string(),
  /** The step that failed: `kickoff`, `processChunk`, `finalize`, or an API call. */
  step: z.string(),
  at: z.number().int(),
  /** True while the step will still be retried; false once the failure is final. */
  retrying: z.boolean(),
});
export type JobError = z.infer<typeof JobError>;

/**
 * What the engine knows of a step's latest attempt (docs/invariants.md, "Retries"): written when
 * an attempt fails (with its error), when an attempt's worker is found dead, and before and after
 * the work of a last attempt, so a death is recorded by the next attempt, the queue, or a death
 * check, never left for the stale-job sweeper.
 */
export const StepAttempt = z.object({
  /** The queue's task id: a re-enqueued task (the sweeper's) has its own attempts. */
  task: z.string(),
  /** The attempt's retry count: 0 on its first attempt. */
  retry: count,
  /**
   * `started`: a last attempt began (its death check reads it); `finished`: it completed;
   * `failed`: the attempt threw and its failure was recorded; `died`: its worker died (out of
   * memory, past its deadline, crashed) and the death was recorded.
   */
  outcome: z.enum(['started', 'finished', 'failed', 'died']),
  at: z.number().int(),
});
export type StepAttempt = z.infer<typeof StepAttempt>;

/**
 * What came of waking the device for a scheduled run (an FCM data message on Firebase): `sent`
 * (handed to FCM), `no-token` (the device never registered one, or withdrew it), `token-invalid`
 * (FCM no longer knows the token: it was removed), `failed` (FCM refused or was down).
 */
export const WAKE_UP_OUTCOMES = ['sent', 'no-token', 'token-invalid', 'failed'] as const;
export const WakeUp = z.object({
  at: z.number().int(),
  outcome: z.enum(WAKE_UP_OUTCOMES),
  message: z.string().optional(),
});
export type WakeUp = z.infer<typeof WakeUp>;

export const BackupJob = z.object({
  id: z.string().min(1),
  uid: z.string().min(1),
  deviceId: z.string().min(1),
  types: z.array(BackupType).min(1),
  options: BackupOptions,
  trigger: Trigger,
  scheduleId: z.string().nullable(),
  status: JobStatus,
  phase: JobPhase,
  pauseReason: PauseReason.nullable(),
  progress: JobProgress,
  /** Times the job was started by kickoff (1 on its first run, +1 per retry of a failed job). */
  attempts: count,
  lastError: JobError.nullable(),
  /** Set by `commitUpload`: the device registered every chunk it will send. */
  uploadCommitted: z.boolean(),
  snapshotId: z.string().nullable(),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
  startedAt: z.number().int().nullable(),
  finishedAt: z.number().int().nullable(),
  /** Last time a step made progress on this job; the stale-job sweeper reads it. */
  heartbeatAt: z.number().int().nullable(),
  /** Server-side sources (e.g. `chats`) read to their end; finalize waits for the job's sources. */
  sourcesDone: z.array(z.string()).optional(),
  /**
   * Latest attempt of each of the job's own steps that failed, died or ran its last attempt, by
   * step (`kickoff`, `finalize`, `sourcePage:chats`); chunk steps keep theirs on the chunk.
   */
  stepAttempts: z.record(z.string(), StepAttempt).optional(),
  /**
   * `records`: `progress` is derived from the job's chunk records and registration batches
   * (docs/invariants.md, "Progress counters"), and no step writes counters on the job. Absent on
   * jobs created before, whose registration counted on the job itself.
   */
  progressFrom: z.literal('records').optional(),
  /** When `progress` was last derived (the roll-up that keeps the job document under 1 write/s). */
  progressAt: z.number().int().optional(),
  /** A scheduled run waiting for its device: how waking it went (the dashboard shows why it waits). */
  wakeUp: WakeUp.optional(),
});
export type BackupJob = z.infer<typeof BackupJob>;

export const CHUNK_STATES = ['pending', 'uploaded', 'processed', 'failed'] as const;
export const ChunkState = z.enum(CHUNK_STATES);
export type ChunkState = z.infer<typeof ChunkState>;

/** SHA-256 as 64 lower-case hex characters. */
export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, { error: 'must be a SHA-256 as 64 lower-case hex characters' });

export const SnapshotTotals = z.object({
  items: count,
  skippedItems: count,
  chunks: count,
  /** Sum of the original sizes of the items. */
  originalBytes: count,
  /** Sum of the stored sizes of the items' blobs (logical: shared blobs count in each snapshot). */
  storedBytes: count,
});
export type SnapshotTotals = z.infer<typeof SnapshotTotals>;

export const SnapshotHealth = z.object({
  /** When the result was recorded (the end of the check that found it). */
  checkedAt: z.number().int(),
  ok: z.boolean(),
  checkedBlobs: count,
  problems: count,
  /**
   * Part of the manifest itself (its root, a tree node, a segment or the chat watermarks) was
   * found missing or corrupt (verify, `check --repair`): some items cannot even be listed. A
   * backup created after this was recorded does not take the snapshot as its baseline
   * (`sources/baseline.ts`), since its diff or carry would need what is lost.
   */
  manifestDamaged: z.boolean().optional(),
});
export type SnapshotHealth = z.infer<typeof SnapshotHealth>;

/**
 * What a verify can find wrong (core/snapshots/verify-snapshot.ts). `missing-part`: a packed item
 * points past its pack's records. `bad-segments`: the parts of a large file do not make the file.
 */
export const PROBLEM_KINDS = ['missing-manifest', 'corrupt-manifest', 'missing-segment', 'corrupt-segment', 'missing-blob', 'corrupt-blob', 'size-mismatch', 'missing-part', 'bad-segments'] as const;
export const ProblemKind = z.enum(PROBLEM_KINDS);
export type ProblemKind = z.infer<typeof ProblemKind>;

/**
 * Bounds of a verify record, which lives on its snapshot's document (Firestore: at most 1 MiB):
 * the first problems, each with its first items, within a byte budget (every problem is still
 * counted in `problemCount`), and the parts of one large file carried between rounds. So the
 * record stays under about half a MiB whatever the snapshot holds.
 */
export const VERIFY_RECORD_LIMITS = {
  /** Problems kept. */
  problems: 100,
  /** Items listed per kept problem (`itemCount` says how many there are). */
  itemsPerProblem: 20,
  /** UTF-8 bytes of the kept problems as JSON. */
  problemBytes: 256 * 1024,
  /**
   * Parts of one large file carried from a round to the next (about 100 bytes each): a 16 GiB
   * file at the SDK's 8 MiB parts. A round does not stop while it holds more (docs/invariants.md,
   * "Verify and restore").
   */
  pendingParts: 2048,
} as const;

/** One thing a verify found wrong, named by the blob at fault and the items it holds. */
export const VerifyProblem = z.object({
  kind: ProblemKind,
  blob: z.string(),
  /** The items affected; from a verify the server ran in rounds, the first of them. */
  items: z.array(z.object({ type: BackupType, sourceId: z.string() })),
  /** How many items the problem concerns, when `items` lists only the first of them. */
  itemCount: count.optional(),
  message: z.string(),
});
export type VerifyProblem = z.infer<typeof VerifyProblem>;

/** A problem as a verify record keeps it: its first items only, with their number when cut. */
export const StoredVerifyProblem = VerifyProblem.extend({ items: VerifyProblem.shape.items.max(VERIFY_RECORD_LIMITS.itemsPerProblem) });
export type StoredVerifyProblem = z.infer<typeof StoredVerifyProblem>;

/** What the parts check needs of one part of a large file (`file-parts.ts`). */
export const PendingPart = z.object({
  index: count,
  offset: count,
  fileSize: count,
  /** The part's bytes (`partLength`). */
  length: count,
  /** False when the part has no blob (skipped at backup time). */
  stored: z.boolean(),
  skipReason: z.string().optional(),
});
export type PendingPart = z.infer<typeof PendingPart>;

/**
 * Where a verify of a format-2 manifest goes on: the type (its place in the root's list), the
 * segment of that type's tree, how many of that segment's blobs (in the order the segment first
 * names them) are checked, and the parts of the large file whose parts may go on past it.
 */
export const VerifyCursor = z.object({
  type: count,
  segment: count,
  blob: count,
  file: z
    .object({ type: BackupType, sourceId: z.string(), parts: z.array(PendingPart).min(1).max(VERIFY_RECORD_LIMITS.pendingParts) })
    .nullable(),
});
export type VerifyCursor = z.infer<typeof VerifyCursor>;

export const VERIFY_STATUSES = ['running', 'done', 'failed'] as const;

/**
 * A verify of the whole snapshot as it goes (core/snapshots/verify-rounds.ts): the callable's
 * inline run is round 0, `maintenance` tasks run the rest, each saving its counts and cursor here.
 */
export const SnapshotVerification = z.object({
  status: z.enum(VERIFY_STATUSES),
  samplePercent: z.number().min(1).max(100),
  startedAt: z.number().int(),
  updatedAt: z.number().int(),
  /** The round to run next: each saves only over the round before it, so a repeated round counts nothing twice. */
  nextRound: count,
  /** Where the next round starts; null before the first and once done. */
  cursor: VerifyCursor.nullable(),
  checkedBlobs: count,
  totalBlobs: count,
  checkedItems: count,
  /** Manifest segments checked and in all (a format-1 manifest counts as one), for progress. */
  checkedSegments: count,
  totalSegments: count,
  /** The first problems (`VERIFY_RECORD_LIMITS`). */
  problems: z.array(StoredVerifyProblem).max(VERIFY_RECORD_LIMITS.problems),
  problemCount: count,
  /** Part of the manifest is lost (`VerifyReport.manifestDamaged`), also when that problem is not among the first kept. */
  manifestDamaged: z.literal(true).optional(),
  /** Why a `failed` verify stopped (an error that is not about the data, and that a retry cannot fix). */
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});
export type SnapshotVerification = z.infer<typeof SnapshotVerification>;

export const Snapshot = z.object({
  id: z.string(),
  uid: z.string(),
  jobId: z.string(),
  deviceId: z.string(),
  parentId: z.string().nullable(),
  types: z.array(BackupType),
  createdAt: z.number().int(),
  /** Content hash of the gzip NDJSON manifest blob. */
  manifestRef: Sha256Hex,
  totals: SnapshotTotals,
  byType: z.partialRecord(BackupType, TypeProgress),
  health: SnapshotHealth.nullable(),
  /** The last verify asked through `verifySnapshot`, running or done (absent before the first). */
  verification: SnapshotVerification.optional(),
  /** Per type, what changed since the parent snapshot (see docs/strategies.md). */
  changes: z.partialRecord(BackupType, z.lazy(() => SnapshotChanges)).optional(),
});
export type Snapshot = z.infer<typeof Snapshot>;

/** Items of one type added, changed, removed or carried forward unchanged, against a parent snapshot. */
export const SnapshotChanges = z.object({
  parentId: z.string().nullable(),
  added: count,
  changed: count,
  removed: count,
  unchanged: count,
  /** Items carried forward from the parent (incrementalOnly: not sent again, still restorable). */
  carried: count,
  /**
   * True when too many items changed to compare them one by one within a step's memory: added and
   * removed are then the difference in stored items, changed is 0, unchanged counts the items of
   * segments both snapshots share.
   */
  estimated: z.boolean().optional(),
});
export type SnapshotChanges = z.infer<typeof SnapshotChanges>;

/** An ISO 8601 date and time, with an offset (`Z`, `+02:00`) or local as a camera records it. */
export const IsoDateTime = z.iso.datetime({ offset: true, local: true });

/** Longest file name or album an item's `meta` keeps, in characters. */
export const MAX_META_NAME_CHARS = 1024;

/**
 * What the app said about a media file besides its bytes (the media envelope's header), so a
 * restore gives the file back as the app had it: its name, type, times and album or folder.
 * Every field is optional and bounded; times are ISO 8601. Unknown fields are dropped on read, so
 * a manifest written by a later version still reads (the envelope's header is checked strictly).
 */
export const ItemMeta = z.object({
  /** The file's name in the app (`IMG_0001.HEIC`); restore makes it a safe, unique file name. */
  name: z.string().min(1).max(MAX_META_NAME_CHARS).optional(),
  mimeType: z.string().min(1).max(255).optional(),
  /** When the photo or video was taken. */
  takenAt: IsoDateTime.optional(),
  /** When the file was created on the device. */
  createdAt: IsoDateTime.optional(),
  /** When the file was last modified on the device; a folder restore sets it as the file's mtime. */
  modifiedAt: IsoDateTime.optional(),
  /** The album or folder the file was in (`Camera`, `WhatsApp Images`). */
  album: z.string().min(1).max(MAX_META_NAME_CHARS).optional(),
});
export type ItemMeta = z.infer<typeof ItemMeta>;

/** One line of a manifest: an item stored in a blob, or skipped with a reason. */
export const ManifestItem = z.object({
  type: BackupType,
  /** The item's id in the app (contact id, message id, file path). */
  sourceId: z.string(),
  /** Content hash of the blob holding the item, null when skipped. */
  blob: Sha256Hex.nullable(),
  /** Index of the record within a pack blob (NDJSON line), when the blob packs many items. */
  part: count.optional(),
  /** Plaintext bytes of the whole blob, so verify can check sizes as well as hashes. */
  blobSize: count.optional(),
  /**
   * Media over 16 MiB is stored in parts, one item per part: where this part's bytes sit in the
   * file. Restore joins the items of one sourceId in `offset` order, up to `fileSize`.
   */
  segment: z.object({ index: count, offset: count, fileSize: count }).optional(),
  originalSize: count,
  storedSize: count,
  /** What the server did to the bytes, e.g. `normalized`, `jpeg q75`, `gps stripped`. */
  transforms: z.array(z.string()),
  skipReason: z.string().optional(),
  warning: z.string().optional(),
  /** SHA-256 of the item's record, so snapshots are compared without reading packs. */
  digest: Sha256Hex.optional(),
  /** Chats: the item's conversation (message ids repeat across conversations in some apps). */
  conversationId: z.string().optional(),
  /** Chats: the item's latest time (sentAt or editedAt, ISO UTC); the incremental watermark. */
  at: z.string().optional(),
  /** Media: the file's name, type, times and album as the app sent them. */
  meta: ItemMeta.optional(),
});
export type ManifestItem = z.infer<typeof ManifestItem>;

export const SCHEDULE_KINDS = ['nightly', 'weekly', 'custom'] as const;

export const Schedule = z.object({
  id: z.string(),
  uid: z.string(),
  deviceId: z.string(),
  kind: z.enum(SCHEDULE_KINDS),
  types: z.array(BackupType).min(1),
  options: BackupOptions,
  timeZone: z.string(),
  /** For `custom`: every N hours, or a cron line. */
  everyHours: z.number().int().positive().nullable(),
  cron: z.string().nullable(),
  enabled: z.boolean(),
  nextRunAt: z.number().int(),
  /** The job of the run in progress, so two runs of one schedule never overlap. */
  activeJobId: z.string().nullable(),
  lastRunAt: z.number().int().nullable(),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
});
export type Schedule = z.infer<typeof Schedule>;

/** `bytes` bytes as lower-case hex. */
export const Hex = (bytes: number) => z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), { error: `must be ${bytes} bytes as lower-case hex` });

const Kdf = z.strictObject({
  name: z.literal('scrypt'),
  /** CPU/memory cost, a power of two: 2^14 .. 2^20. */
  N: z.number().int().min(2 ** 14).max(2 ** 20).refine((n) => (n & (n - 1)) === 0, { error: 'N must be a power of two' }),
  r: z.number().int().min(1).max(32),
  p: z.number().int().min(1).max(16),
  /** Random per user (per passphrase, from version 2), chosen by the device. */
  salt: Hex(16),
});

/**
 * What a device needs to derive the user's end-to-end key, and to check it.
 *
 * - Version 1: the key is what the KDF derives from the passphrase.
 * - Version 2: the KDF's output unwraps `wrappedKey` (AES-256-GCM: 12-byte nonce, the 32-byte key,
 *   16-byte tag), so a new passphrase re-wraps the same key (`changeEndToEndParams`) and every
 *   snapshot stays readable. A version 1 key is carried into version 2 by wrapping it.
 */
export const E2eParams = z.discriminatedUnion('version', [
  z.strictObject({
    version: z.literal(1),
    kdf: Kdf,
    /** HMAC of a fixed label under the derived key: equal only when the passphrase is right. */
    keyCheck: Hex(32),
  }),
  z.strictObject({
    version: z.literal(2),
    kdf: Kdf,
    /** HMAC of a fixed label under the passphrase's key: equal only when the passphrase is right. */
    keyCheck: Hex(32),
    wrappedKey: Hex(60),
  }),
]);
export type E2eParams = z.infer<typeof E2eParams>;

/**
 * Which snapshots a user keeps (restic's `forget --keep-*`, per device and backup type): the newest
 * `keepLast`, and the newest of each of the last `keepDaily` days, `keepWeekly` ISO weeks and
 * `keepMonthly` months that have snapshots.
 */
export const RetentionPolicy = z.strictObject({
  /** The newest N snapshots, whatever their dates. At least 1: the latest is never forgotten. @default 3 */
  keepLast: z.number().int().min(1).max(1000).default(3),
  /** The newest snapshot of each of the last N days with snapshots. @default 7 */
  keepDaily: z.number().int().min(0).max(3660).default(7),
  /** The newest snapshot of each of the last N ISO weeks with snapshots. @default 4 */
  keepWeekly: z.number().int().min(0).max(520).default(4),
  /** The newest snapshot of each of the last N months with snapshots. @default 12 */
  keepMonthly: z.number().int().min(0).max(240).default(12),
});
export type RetentionPolicy = z.infer<typeof RetentionPolicy>;

/** Why a user's data is deleted. */
export const DELETION_REASONS = ['user-request', 'account-deleted', 'admin'] as const;
export type DeletionReason = (typeof DELETION_REASONS)[number];

/** What a deletion has removed so far, summed over its runs. */
export const DeletionCounts = z.object({
  /** Jobs that were still queued, running, paused or failed, now cancelled. */
  jobsCancelled: count,
  /** Job store documents: snapshots, schedules, jobs with their chunk records and batches, chunk index entries. */
  documents: count,
  /** Blob store objects: content blobs and manifests, raw uploads, settings, leases, the key's tombstone. */
  objects: count,
  /** Device registrations (push tokens). */
  devices: count,
  /** Upload sessions with their partial bytes. */
  uploadSessions: count,
});
export type DeletionCounts = z.infer<typeof DeletionCounts>;
