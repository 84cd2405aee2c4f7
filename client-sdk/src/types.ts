/**
 * The protocol's documents as the SDK hands them to apps (docs/protocol.md). They are the
 * protocol package's own types (`@lifeboat/protocol`, the schemas the server stores and answers
 * with and the SDK parses every answer with), under the names the SDK has always used.
 */
import type { BackupOptionsInput, ItemMeta, JobStatus, ProblemKind, Schedule } from '@lifeboat/protocol';

export type {
  BackupJob,
  BackupType,
  ChunkState,
  DeleteSnapshotResult,
  DeletionReport,
  JobError,
  JobPhase,
  JobProgress,
  JobStatus,
  MediaMode,
  PauseReason,
  RetentionPolicy,
  RetentionPolicyResult,
  Schedule,
  Snapshot,
  SnapshotVerification,
  Trigger,
  TypeProgress,
  VerifyProblem,
  VerifyReport,
} from '@lifeboat/protocol';

/** A media file's name, type, times (ISO 8601) and album as the app backed it up (the manifest's `meta`). */
export type MediaMeta = ItemMeta;

/**
 * Options of a backup; the server fills in its documented defaults for what is left out (each
 * field's TSDoc gives its default). `mediaMode` says how photos are stored: `original` byte for
 * byte (deduplicated), or `storageSaver`, images re-encoded at `mediaQuality` (and
 * `maxImageDimension`); both keep capture date and offset, camera, orientation, colour profile
 * and, unless `stripLocation`, location. `endToEnd` is set by the client from its `endToEnd`
 * option, not by hand.
 */
export type BackupOptions = BackupOptionsInput;

/** What a verify can find wrong (`VerifyProblem.kind`). */
export type VerifyProblemKind = ProblemKind;

/** Progress of a verify the server runs in rounds, as `verifySnapshot` polls it. */
export interface VerifyProgress {
  checkedBlobs: number;
  /** Blobs met so far: it grows as the manifest is read. */
  totalBlobs: number;
  checkedSegments: number;
  totalSegments: number;
}

export type ScheduleKind = Schedule['kind'];

/** Statuses after which a job changes no more (until a retry moves a failed one). */
export const TERMINAL_STATUSES: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];
