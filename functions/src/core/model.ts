/**
 * The document model shared by both runtimes. Every stored document is one of these schemas;
 * timestamps are epoch milliseconds so a document reads the same from SQLite and Firestore. The
 * documents the callables carry are the protocol's (`@lifeboat/protocol`, re-exported here so the
 * engine names one model); the formats only the server reads (chunk records, the chunk index,
 * manifests) are defined here.
 */
import { z } from 'zod';
import { BackupType, ChunkState, ManifestItem, Sha256Hex, StepAttempt } from '@lifeboat/protocol';

export {
  BACKUP_TYPES,
  BackupType,
  JOB_STATUSES,
  JobStatus,
  TERMINAL_STATUSES,
  JOB_PHASES,
  JobPhase,
  PAUSE_REASONS,
  PauseReason,
  TRIGGERS,
  Trigger,
  MEDIA_MODES,
  MediaMode,
  DEFAULT_MEDIA_MODE,
  BackupOptions,
  TypeProgress,
  JobProgress,
  emptyProgress,
  JobError,
  StepAttempt,
  WAKE_UP_OUTCOMES,
  WakeUp,
  BackupJob,
  CHUNK_STATES,
  ChunkState,
  Sha256Hex,
  SnapshotTotals,
  SnapshotHealth,
  PROBLEM_KINDS,
  ProblemKind,
  VERIFY_RECORD_LIMITS,
  StoredVerifyProblem,
  PendingPart,
  VerifyCursor,
  VERIFY_STATUSES,
  SnapshotVerification,
  Snapshot,
  SnapshotChanges,
  IsoDateTime,
  MAX_META_NAME_CHARS,
  ItemMeta,
  ManifestItem,
  SCHEDULE_KINDS,
  Schedule,
} from '@lifeboat/protocol';
export type { BackupOptionsInput } from '@lifeboat/protocol';

const count = z.number().int().nonnegative();

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
