/**
 * The document model shared by both runtimes. Every stored document is one of these schemas;
 * timestamps are epoch milliseconds so a document reads the same from SQLite and Firestore.
 */
import { z } from 'zod';

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

/**
 * What a manifest needs to know of a segment (one chunk's result: its manifest items) without
 * reading it (docs/invariants.md, "Manifests"): counts and sizes for totals, the range of item
 * keys so a diff or an incremental carry reads only segments a change can touch, chat
 * watermarks, and where a large file's part sits. Computed once, when the segment is written.
 */
export const SegmentStats = z.object({
  /** Manifest items in the segment, skipped ones included. */
  items: count,
  skipped: count,
  originalBytes: count,
  storedBytes: count,
  /** Stored items that record a deletion (`tombstone`), counted as removals by diffs. */
  tombstones: count.optional(),
  /** Smallest and largest item key (`itemKey`), cut to a bounded length so they still bound every key. */
  minKey: z.string().optional(),
  maxKey: z.string().optional(),
  /** Chats: per conversation, the latest `at` of its stored messages; absent when the segment holds too many conversations. */
  marks: z.array(z.tuple([z.string(), z.string()])).optional(),
  /** A segment holding one part of a large file: the file's source id and the part's offset. */
  file: z.object({ id: z.string(), offset: count }).optional(),
  /**
   * Per item type, when the segment holds more than one (a chats chunk's result lists the media
   * fetched for its messages): diffs count changes by the items' own types.
   */
  types: z.partialRecord(BackupType, z.object({ items: count, skipped: count })).optional(),
});
export type SegmentStats = z.infer<typeof SegmentStats>;

export const CHUNK_STATES = ['pending', 'uploaded', 'processed', 'failed'] as const;
export const ChunkState = z.enum(CHUNK_STATES);
export type ChunkState = z.infer<typeof ChunkState>;

/** SHA-256 as 64 lower-case hex characters. */
export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, { error: 'must be a SHA-256 as 64 lower-case hex characters' });

/**
 * One chunk of one job: raw bytes the device packed (e.g. NDJSON contacts), named by the SHA-256
 * of those bytes. Stored under the job (`jobs/{jobId}/chunks/{chunkId}` on Firestore).
 */
export const ChunkRecord = z.object({
  jobId: z.string(),
  uid: z.string(),
  id: Sha256Hex,
  /** Order in which the device registered the chunk; the manifest follows it. */
  index: count,
  type: BackupType,
  size: count,
  items: count,
  state: ChunkState,
  /** True when the server already had the chunk's result and the device sent nothing. */
  deduplicated: z.boolean(),
  /** Blob key of the raw upload while it exists. */
  uploadKey: z.string().nullable(),
  /** Content hash of the chunk's result (its manifest items) once processed. */
  resultRef: Sha256Hex.nullable(),
  processedItems: count,
  skippedItems: count,
  storedBytes: count,
  error: z.string().nullable(),
  updatedAt: z.number().int(),
  /** The latest attempt of the chunk's processing that failed, died or was its last (see StepAttempt). */
  attempt: StepAttempt.optional(),
  /** Of the chunk's result once processed (or found in the index), so finalize need not read it. */
  stats: SegmentStats.optional(),
});
export type ChunkRecord = z.infer<typeof ChunkRecord>;

/**
 * A user's index of chunks already processed, so identical chunks are never uploaded or processed
 * twice (across jobs, snapshots and devices of the user). Keyed by `{type}:{strategyKey}:{sha256}`:
 * the strategy key changes when options that change the output (e.g. media quality) change.
 */
export const ChunkIndexEntry = z.object({
  uid: z.string(),
  key: z.string(),
  resultRef: Sha256Hex,
  items: count,
  skippedItems: count,
  createdAt: z.number().int(),
  /** Of the result (entries written before manifests were segmented have none). */
  stats: SegmentStats.optional(),
});
export type ChunkIndexEntry = z.infer<typeof ChunkIndexEntry>;

/**
 * Chunks a registration found already stored (known), recorded together: one document per
 * registration call instead of one per chunk, so an unchanged backup writes O(1) documents. Named
 * by the SHA-256 of the job and its content, so a repeated call finds the batch it already wrote.
 * Deleted with the job's other registration state once the snapshot exists.
 */
export const ChunkBatch = z.object({
  id: Sha256Hex,
  jobId: z.string(),
  uid: z.string(),
  /** Registration order of the batch's first chunk (the smallest `index` in it). */
  firstIndex: count,
  chunks: z.array(
    z.object({
      id: Sha256Hex,
      /** Registration order among all the job's chunks (a call's known and new chunks interleave). */
      index: count,
      type: BackupType,
      size: count,
      items: count,
      resultRef: Sha256Hex,
      processedItems: count,
      skippedItems: count,
      stats: SegmentStats.optional(),
    }),
  ).min(1),
  /** Sums over `chunks` (items and skipped as processed), which `JobStore.knownTotals` adds up. */
  totals: z.object({ chunks: count, items: count, skipped: count, bytes: count }),
  createdAt: z.number().int(),
});
export type ChunkBatch = z.infer<typeof ChunkBatch>;

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

/** A problem as a verify record keeps it: its first items only, with their number when cut. */
export const StoredVerifyProblem = z.object({
  kind: ProblemKind,
  blob: z.string(),
  items: z.array(z.object({ type: BackupType, sourceId: z.string() })).max(VERIFY_RECORD_LIMITS.itemsPerProblem),
  /** How many items the problem concerns, when `items` lists only the first of them. */
  itemCount: count.optional(),
  message: z.string(),
});
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

export const MANIFEST_FORMAT = 'lifeboat-manifest/1' as const;

export const ManifestHeader = z.object({
  format: z.literal(MANIFEST_FORMAT),
  snapshotId: z.string(),
  jobId: z.string(),
  uid: z.string(),
  deviceId: z.string(),
  createdAt: z.number().int(),
  types: z.array(BackupType),
  items: count,
});
export type ManifestHeader = z.infer<typeof ManifestHeader>;

/**
 * A manifest segment: manifest items of one type, stored as a content blob. A chunk's result is
 * one (with its chunk id); finalize writes others for items an incremental backup carries forward.
 */
export const ManifestSegment = z.object({
  chunkId: Sha256Hex.optional(),
  type: BackupType,
  items: z.array(ManifestItem),
});
export type ManifestSegment = z.infer<typeof ManifestSegment>;

/** The result of processing one chunk, stored as a blob and referenced by the chunk record. */
export const ChunkResult = ManifestSegment.extend({ chunkId: Sha256Hex });
export type ChunkResult = z.infer<typeof ChunkResult>;

export const MANIFEST_V2_FORMAT = 'lifeboat-manifest/2' as const;
export const MANIFEST_NODE_FORMAT = 'lifeboat-manifest-node/1' as const;

/** A leaf node's entry: one segment and its stats. */
export const SegmentEntry = SegmentStats.extend({ ref: Sha256Hex });
export type SegmentEntry = z.infer<typeof SegmentEntry>;

/** An entry naming a node of the manifest tree, with the totals of everything below it. */
export const NodeEntry = z.object({
  ref: Sha256Hex,
  /** Level of the node named: 1 for a node of segment entries. */
  level: z.number().int().min(1).max(16),
  items: count,
  skipped: count,
  originalBytes: count,
  storedBytes: count,
  /** Segments below the node, so a reader can skip whole subtrees by position. */
  segments: count,
  /** Per item type, when some segment below holds more than one type (see `SegmentStats.types`). */
  types: z.partialRecord(BackupType, z.object({ items: count, skipped: count })).optional(),
});
export type NodeEntry = z.infer<typeof NodeEntry>;

/**
 * A node of a type's manifest tree (content-addressed blob): at level 1 its entries are
 * segments, above they are nodes of the level below.
 */
export const ManifestNode = z.union([
  z.object({ format: z.literal(MANIFEST_NODE_FORMAT), level: z.literal(1), entries: z.array(SegmentEntry).min(1) }),
  z.object({ format: z.literal(MANIFEST_NODE_FORMAT), level: z.number().int().min(2).max(16), entries: z.array(NodeEntry).min(1) }),
]);
export type ManifestNode = z.infer<typeof ManifestNode>;

/**
 * A snapshot's manifest (format 2): per type, the root of its tree of segments. It names no
 * snapshot, job or time (the snapshot record holds those), so an unchanged backup's manifest is
 * the blob its parent already has.
 */
export const ManifestRoot = z.object({
  format: z.literal(MANIFEST_V2_FORMAT),
  types: z.array(
    z.object({
      type: BackupType,
      /** Null when the snapshot holds no item of the type. */
      tree: NodeEntry.nullable(),
      /** Chats: a blob of per-conversation watermarks (`{conversationId: at}`), for incremental backups. */
      watermarks: Sha256Hex.optional(),
    }),
  ),
});
export type ManifestRoot = z.infer<typeof ManifestRoot>;

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
