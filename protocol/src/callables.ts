/**
 * Every callable of the API (docs/protocol.md) by its name, with the schema of its input and of its
 * answer. Both runtimes serve exactly these names; the server's handlers are typed against them
 * (`API_HANDLERS`), the SDK's `call` takes a name and is typed and checked by them, so the two
 * cannot disagree about a call without failing to compile (`protocol/test/views.types.ts`).
 */
import type * as z from 'zod';
import * as input from './inputs';
import * as result from './results';

export const CALLABLES = {
  createBackupJob: { input: input.CreateBackupJobInput, output: result.JobAnswer },
  getBackupJob: { input: input.JobRef, output: result.JobAnswer },
  listBackupJobs: { input: input.ListBackupJobsInput, output: result.JobPage },
  registerChunks: { input: input.RegisterChunksInput, output: result.RegisterChunksAnswer },
  beginChunkUpload: { input: input.BeginChunkUploadInput, output: result.BeginChunkUploadAnswer },
  commitUpload: { input: input.CommitUploadInput, output: result.JobAnswer },
  pauseBackup: { input: input.PauseBackupInput, output: result.JobAnswer },
  resumeBackup: { input: input.JobRef, output: result.JobAnswer },
  cancelBackup: { input: input.JobRef, output: result.JobAnswer },
  retryBackup: { input: input.JobRef, output: result.JobAnswer },
  getSnapshot: { input: input.SnapshotRef, output: result.SnapshotAnswer },
  listSnapshots: { input: input.ListSnapshotsInput, output: result.SnapshotPage },
  verifySnapshot: { input: input.VerifySnapshotInput, output: result.StartedVerify },
  getRestorePlan: { input: input.RestorePlanInput, output: result.RestorePlan },
  getRetentionPolicy: { input: input.GetRetentionPolicyInput, output: result.RetentionPolicyResult },
  setRetentionPolicy: { input: input.SetRetentionPolicyInput, output: result.RetentionPolicyResult },
  getEndToEndParams: { input: input.GetEndToEndParamsInput, output: result.E2eParamsAnswer },
  initEndToEndParams: { input: input.InitEndToEndParamsInput, output: result.InitE2eParamsAnswer },
  changeEndToEndParams: { input: input.ChangeEndToEndParamsInput, output: result.ChangeE2eParamsAnswer },
  setSchedule: { input: input.SetScheduleInput, output: result.ScheduleAnswer },
  listSchedules: { input: input.ListSchedulesInput, output: result.SchedulePage },
  deleteSchedule: { input: input.ScheduleRef, output: result.DeleteScheduleAnswer },
  registerDevice: { input: input.RegisterDeviceInput, output: result.RegisterDeviceResult },
  deleteSnapshot: { input: input.DeleteSnapshotInput, output: result.DeleteSnapshotResult },
  deleteMyData: { input: input.DeleteMyDataInput, output: result.DeletionAnswer },
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

export type CallableName = keyof typeof CALLABLES;

/** Every callable's name, in the order of `CALLABLES`. */
export const CALLABLE_NAMES = Object.freeze(Object.keys(CALLABLES) as CallableName[]);

/** What a caller sends as `data` (defaults may be left out). */
export type CallableInput<N extends CallableName> = z.input<(typeof CALLABLES)[N]['input']>;

/** What a server must answer: the answer schema's input (what it accepts). */
export type CallableReply<N extends CallableName> = z.input<(typeof CALLABLES)[N]['output']>;

/** What a caller gets once the answer is parsed. */
export type CallableResult<N extends CallableName> = z.output<(typeof CALLABLES)[N]['output']>;
