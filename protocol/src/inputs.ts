/**
 * Input schemas of the callable API (docs/protocol.md): the server parses every call's `data` with
 * them, and the SDK's calls are typed by them. Unknown fields are refused.
 */
// A namespace import: bundlers keep only the parts of zod used (`import { z }` keeps all of it, locales included).
import * as z from 'zod';
import { BackupOptions, BackupType, E2eParams, Hex, JobStatus, PauseReason, RetentionPolicy, SCHEDULE_KINDS, Sha256Hex } from './documents';

export const JobId = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, { error: 'must be 8-64 characters of A-Z a-z 0-9 _ -' });
const PageToken = z.string().min(1).max(1000);
const Limit = z.number().int().min(1).max(100);

export const CreateBackupJobInput = z.strictObject({
  deviceId: z.string().trim().min(1).max(128),
  types: z
    .array(BackupType)
    .min(1)
    .refine((t) => new Set(t).size === t.length, { error: 'must not repeat a type' }),
  options: BackupOptions.default(BackupOptions.parse({})),
  jobId: JobId.optional(),
});

export const JobRef = z.strictObject({ jobId: JobId });

export const ListBackupJobsInput = z.strictObject({
  status: JobStatus.optional(),
  limit: Limit.optional(),
  pageToken: PageToken.optional(),
});

/** The largest chunk a device may register: 16 MiB, the SDK's MAX_MEDIA_CHUNK_BYTES. */
export const MAX_CHUNK_BYTES = 16 * 1024 * 1024;

export const ChunkDescriptor = z.strictObject({
  id: Sha256Hex,
  type: BackupType,
  /**
   * Raw chunk size; at most 16 MiB (MAX_CHUNK_BYTES) so one task holds it within its memory
   * (docs/media.md, "Memory"): larger media files come in parts.
   */
  size: z.number().int().min(1).max(MAX_CHUNK_BYTES),
  items: z.number().int().min(0).max(1_000_000),
  /**
   * Contacts and chats recipe chunks (docs/protocol.md, "Chunk formats"): the chunks its reference lines
   * name. A chunk whose references the server does not hold is not registered (`unresolved`).
   */
  refs: z.array(Sha256Hex).min(1).max(256).optional(),
});
export type ChunkDescriptor = z.infer<typeof ChunkDescriptor>;

export const RegisterChunksInput = z.strictObject({
  jobId: JobId,
  // 250 keeps a registration (chunks + the job) inside one transaction of at most 500 writes.
  chunks: z.array(ChunkDescriptor).min(1).max(250),
});

export const BeginChunkUploadInput = z.strictObject({ jobId: JobId, chunkId: Sha256Hex });

export const CommitUploadInput = z.strictObject({ jobId: JobId, chunkCount: z.number().int().min(0) });

export const PauseBackupInput = z.strictObject({ jobId: JobId, reason: PauseReason });

export const SnapshotRef = z.strictObject({ snapshotId: z.string().min(1).max(200) });

export const ListSnapshotsInput = z.strictObject({ limit: Limit.optional(), pageToken: PageToken.optional() });

export const VerifySnapshotInput = z.strictObject({
  snapshotId: z.string().min(1).max(200),
  /** Share of blobs to read. @default 100 */
  samplePercent: z.number().min(1).max(100).optional(),
});

export const ScheduleId = z.string().regex(/^[A-Za-z0-9]{8,40}$/, { error: 'must be 8-40 letters and digits' });

/** Creates a schedule, or replaces the caller's schedule with the same `scheduleId`. */
export const SetScheduleInput = z
  .strictObject({
    scheduleId: ScheduleId.optional(),
    deviceId: z.string().trim().min(1).max(128),
    kind: z.enum(SCHEDULE_KINDS),
    types: z.array(BackupType).min(1).refine((t) => new Set(t).size === t.length, { error: 'must not repeat a type' }),
    options: BackupOptions.default(BackupOptions.parse({})),
    /** IANA name, e.g. `Europe/London`. */
    timeZone: z.string().min(1).max(64),
    everyHours: z.number().int().min(1).max(24 * 31).optional(),
    cron: z.string().min(9).max(200).optional(),
    enabled: z.boolean().default(true),
  })
  .refine((s) => s.kind !== 'custom' || (s.everyHours === undefined) !== (s.cron === undefined), {
    error: 'a custom schedule needs exactly one of everyHours or cron',
  })
  .refine((s) => s.kind === 'custom' || (s.everyHours === undefined && s.cron === undefined), {
    error: 'everyHours and cron are only for custom schedules',
  });

export const ScheduleRef = z.strictObject({ scheduleId: ScheduleId });

export const ListSchedulesInput = z.strictObject({});

export const DeleteSnapshotInput = z.strictObject({ snapshotId: z.string().min(1).max(200) });

export const DeleteMyDataInput = z.strictObject({
  /** Deleting every backup cannot be undone: the caller says so. */
  confirm: z.literal(true, { error: 'deleteMyData deletes every backup of the user and cannot be undone: pass confirm: true' }),
});

export const GetEndToEndParamsInput = z.strictObject({});

export const InitEndToEndParamsInput = z.strictObject({ params: E2eParams });

export const ChangeEndToEndParamsInput = z.strictObject({
  /** The `keyCheck` of the parameters the device read and re-wrapped: a stale one is refused. */
  previousKeyCheck: Hex(32),
  params: E2eParams,
});

export const RegisterDeviceInput = z.strictObject({
  deviceId: z.string().trim().min(1).max(128),
  /** The device's FCM registration token, or null to forget it. FCM tokens are ~160 characters. */
  fcmToken: z.string().trim().min(1).max(4096).nullable(),
});

export const SetRetentionPolicyInput = z.strictObject({
  /** The new policy (missing fields take their defaults), or null to go back to the default. */
  policy: RetentionPolicy.nullable(),
});

export const GetRetentionPolicyInput = z.strictObject({});

/** Items in a restore plan page unless the caller asks for another size. */
export const RESTORE_PAGE_SIZE = 2000;

const Instant = z.union([z.number().int(), z.iso.datetime({ offset: true }).transform((s) => Date.parse(s))]);

export const RestorePlanInput = z.strictObject({
  snapshotId: z.string().min(1).max(200),
  /** Only these types. @default all */
  types: z.array(BackupType).min(1).optional(),
  /** Chats: only these conversations (other types are not filtered by it). @default all */
  conversations: z.array(z.string().min(1).max(256)).min(1).max(1000).optional(),
  /** Chats: only messages whose time (sent, or last edited) is at or after this instant (epoch ms or ISO). @default no bound */
  from: Instant.optional(),
  /** Chats: only messages whose time is before this instant (epoch ms or ISO). @default no bound */
  to: Instant.optional(),
  /** Only these items (source ids). @default all */
  itemIds: z.array(z.string().min(1).max(512)).min(1).max(10_000).optional(),
  /** Skipped items (no bytes, a reason) in the plan too. @default true */
  includeSkipped: z.boolean().optional(),
  /** Items per page. @default 2000 ({@link RESTORE_PAGE_SIZE}) */
  pageSize: z.number().int().min(1).max(10_000).optional(),
  /** The `nextPageToken` of the previous page. @default the first page */
  pageToken: z.string().regex(/^([0-9]{1,9}|[A-Za-z]{1,20}\.[0-9]{1,9}\.[0-9]{1,9})$/, { error: 'is not a page token of this plan' }).optional(),
});
export type RestorePlanInput = z.input<typeof RestorePlanInput>;
