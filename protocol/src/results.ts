/**
 * What each callable answers (docs/protocol.md). The server's handlers are typed to return these
 * (their `z.input`), and the SDK parses every answer with them before it reads a field, so a
 * server and an SDK that disagree fail to compile here, and an answer that is not the protocol's
 * is a `backup/internal` error at the boundary instead of a wrong value deep inside the SDK.
 *
 * Objects are not strict: an answer from a newer server may carry fields this version does not
 * know, and parsing drops them.
 */
// A namespace import: bundlers keep only the parts of zod used (`import { z }` keeps all of it, locales included).
import * as z from 'zod';
import { BackupJob, ChunkState, DELETION_REASONS, DeletionCounts, E2eParams, ManifestItem, RetentionPolicy, Schedule, Snapshot, SnapshotVerification, VerifyProblem } from './documents';

const count = z.number().int().nonnegative();
const epochMs = z.number().int();

export const JobAnswer = z.object({ job: BackupJob });

export const JobPage = z.object({ jobs: z.array(BackupJob), nextPageToken: z.string().optional() });

export const RegisterChunksAnswer = z.object({
  /** Chunks the server needs: upload them. */
  missing: z.array(z.string()),
  /** Chunks the server already holds: nothing to send. */
  known: z.array(z.string()),
  /** Recipe chunks whose references the server does not hold: not registered (docs/protocol.md). Absent from servers before it. */
  unresolved: z.array(z.string()).optional(),
});

export const BeginChunkUploadAnswer = z.object({
  /** Where to PUT the chunk's bytes (the resumable-upload protocol); null when there is nothing to send. */
  uploadUrl: z.string().nullable(),
  expiresAt: epochMs.nullable(),
  state: ChunkState,
});

export const SnapshotAnswer = z.object({ snapshot: Snapshot });

export const SnapshotPage = z.object({ snapshots: z.array(Snapshot), nextPageToken: z.string().optional() });

/** A finished verify: problems name the blob and the items it holds. */
export const VerifyReport = z.object({
  snapshotId: z.string(),
  ok: z.boolean(),
  /** When the verify started. */
  checkedAt: epochMs,
  totalBlobs: count,
  checkedBlobs: count,
  checkedItems: count,
  problems: z.array(VerifyProblem),
  /** Every problem found, also those `problems` leaves out. */
  problemCount: count,
  /** Part of the manifest itself is missing or corrupt. Absent when false. */
  manifestDamaged: z.literal(true).optional(),
});
export type VerifyReport = z.infer<typeof VerifyReport>;

/** A report as answered: servers from before verify records sent no `problemCount` (every problem was listed). */
const AnsweredReport = VerifyReport.extend({ problemCount: count.optional() }).transform((report) => ({ ...report, problemCount: report.problemCount ?? report.problems.length }));

/** `verifySnapshot`: the report when the verify finished within the call, else its running record. */
export const StartedVerify = z.union([
  z.object({ report: AnsweredReport }),
  z.object({ report: z.null(), verification: SnapshotVerification }),
]);
export type StartedVerify = z.infer<typeof StartedVerify>;

/** A page of a restore plan: items in file order and one download link per distinct blob. */
export const RestorePlan = z.object({
  snapshotId: z.string(),
  createdAt: epochMs,
  /** This page's items. */
  items: z.array(ManifestItem),
  /** One link per distinct blob this page's items need; `size` is the blob's plaintext size when known. */
  downloads: z.record(z.string(), z.object({ url: z.string(), size: count.nullable() })),
  expiresAt: epochMs,
  /**
   * Items selected over all pages; null when a filter on items (ids, conversations, dates) makes
   * it unknown until the last page.
   */
  totalItems: count.nullable(),
  /** Distinct blobs the items of all pages need; null when unknown (segmented manifests). */
  totalBlobs: count.nullable(),
  /** Asks for the next page; null on the last one. */
  nextPageToken: z.string().nullable(),
});
export type RestorePlan = z.infer<typeof RestorePlan>;

/** The retention policy that applies to the caller, and whether it is the deployment's default. */
export const RetentionPolicyResult = z.object({ policy: RetentionPolicy, isDefault: z.boolean() });
export type RetentionPolicyResult = z.infer<typeof RetentionPolicyResult>;

export const E2eParamsAnswer = z.object({ params: E2eParams.nullable() });
export const InitE2eParamsAnswer = z.object({ params: E2eParams, created: z.boolean() });
export const ChangeE2eParamsAnswer = z.object({ params: E2eParams });

export const ScheduleAnswer = z.object({ schedule: Schedule });
export const SchedulePage = z.object({ schedules: z.array(Schedule) });
export const DeleteScheduleAnswer = z.object({ deleted: z.string() });

export const RegisterDeviceResult = z.object({ deviceId: z.string(), registered: z.boolean() });
export type RegisterDeviceResult = z.infer<typeof RegisterDeviceResult>;

/** What `deleteSnapshot` did: the record, then garbage collection of what nothing else needs. */
export const DeleteSnapshotResult = z.object({
  snapshotId: z.string(),
  /** False when the snapshot was already gone (deleting twice is harmless). */
  deleted: z.boolean(),
  /** What garbage collection did right after, or why it did not run. */
  gc: z.union([
    z.object({ status: z.enum(['done', 'deferred']), deletedBlobs: count, deletedBytes: count, youngBlobs: count, stoppedEarly: z.boolean() }),
    z.object({ status: z.enum(['skipped', 'failed']), reason: z.string() }),
  ]),
});
export type DeleteSnapshotResult = z.infer<typeof DeleteSnapshotResult>;

/** What `deleteMyData` has done. */
export const DeletionReport = z.object({
  uid: z.string(),
  /**
   * `running`: some data is left (the call ran out of time; call again). `reclaimed`: all of it
   * is deleted and unreadable; new backups are refused until `settlesAt`. `done`: nothing of the
   * user is left.
   */
  status: z.enum(['running', 'reclaimed', 'done']),
  reason: z.enum(DELETION_REASONS),
  startedAt: epochMs,
  /** When the data key was destroyed (everything unreadable from then on). */
  keyDestroyedAt: epochMs.nullable(),
  /** When all the data was first found gone. */
  reclaimedAt: epochMs.nullable(),
  /** When the record can go and the user may start afresh; null while `running`. */
  settlesAt: epochMs.nullable(),
  /** Removed over all runs of this deletion. */
  removed: DeletionCounts,
});
export type DeletionReport = z.infer<typeof DeletionReport>;

export const DeletionAnswer = z.object({ deletion: DeletionReport });
