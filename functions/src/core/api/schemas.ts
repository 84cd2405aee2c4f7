/** Input schemas of the callable API (docs/protocol.md). Unknown fields are refused. */
import { z } from 'zod';
import { BackupOptions, BackupType, JobStatus, PauseReason, SCHEDULE_KINDS, Sha256Hex } from '../model';

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
