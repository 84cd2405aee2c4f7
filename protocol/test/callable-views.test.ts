/**
 * The server's and the SDK's views of every callable are one view (issue 15): checked by the
 * compiler (`npm run typecheck` compiles this file; a difference fails it) and, at run time, the
 * names both sides serve and call.
 *
 * - The server's view of a callable is what its handler answers (`API_HANDLERS`).
 * - The SDK's view is what its `call` is typed to send and give back (`ApiCall`), after parsing
 *   the answer with the protocol's schema.
 * Both must be the protocol's (`CALLABLES`): a server answer the SDK's parse would refuse, or an
 * SDK type that is not what the parse gives, is a compile error here.
 */
import { API_HANDLERS } from '@lifeboat/engine/core';
import { CALLABLE_NAMES, CALLABLES, type CallableInput, type CallableName, type CallableReply, type CallableResult } from '@lifeboat/protocol';
import type { ApiCall } from '../../client-sdk/src/callable';
import type { BackupJob, DeleteSnapshotResult, DeletionReport, RetentionPolicyResult, Schedule, Snapshot, VerifyReport } from '../../client-sdk/src/types';
import type { E2eParams } from '../../client-sdk/src/e2e-encryption';
import type { RestoreItem } from '../../client-sdk/src/restore';

/** True when A is assignable to B. */
type Extends<A, B> = [A] extends [B] ? true : false;
/** True when A and B are the same type. */
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Compiles only when every check is true. */
type AllTrue<T extends Record<string, true>> = T;

type ServerAnswer<N extends CallableName> = Awaited<ReturnType<(typeof API_HANDLERS)[N]>>;
// A value to instantiate the SDK's generic call per name (`typeof _call<N>`).
declare const _call: ApiCall;
type SdkInput<N extends CallableName> = Parameters<typeof _call<N>>[1];
type SdkResult<N extends CallableName> = Awaited<ReturnType<typeof _call<N>>>;

/** Every handler answers what the SDK's parse of that callable accepts. */
export type ServerAnswersWhatTheSdkParses = AllTrue<{ [N in CallableName]: Extends<ServerAnswer<N>, CallableReply<N>> }>;
/** The SDK sends each callable the protocol's input and reads the protocol's parsed answer. */
export type SdkCallsAsTheProtocolSays = AllTrue<{ [N in CallableName]: Equals<SdkInput<N>, CallableInput<N>> }>;
export type SdkReadsWhatTheProtocolParses = AllTrue<{ [N in CallableName]: Equals<SdkResult<N>, CallableResult<N>> }>;
/** The documents the SDK hands apps are the answers' own types, not copies of them. */
export type SdkDocumentsAreTheProtocols = AllTrue<{
  job: Equals<BackupJob, CallableResult<'getBackupJob'>['job']>;
  snapshot: Equals<Snapshot, CallableResult<'getSnapshot'>['snapshot']>;
  schedule: Equals<Schedule, CallableResult<'setSchedule'>['schedule']>;
  retention: Equals<RetentionPolicyResult, CallableResult<'getRetentionPolicy'>>;
  deletion: Equals<DeletionReport, CallableResult<'deleteMyData'>['deletion']>;
  deleteSnapshot: Equals<DeleteSnapshotResult, CallableResult<'deleteSnapshot'>>;
  verifyReport: Equals<VerifyReport, Extract<CallableResult<'verifySnapshot'>, { report: object }>['report']>;
  e2eParams: Equals<E2eParams | null, CallableResult<'getEndToEndParams'>['params']>;
  restoreItem: Equals<RestoreItem, CallableResult<'getRestorePlan'>['items'][number]>;
}>;

// The checks can fail: a server whose getBackupJob answered a job without its `status`, or whose
// registerChunks answered no `known` list, differs from the SDK's view, and the compiler says so
// (were the check always true, these expected errors would be errors themselves).
type JobWithoutStatus = { job: Omit<ServerAnswer<'getBackupJob'>['job'], 'status'> };
// @ts-expect-error a job without its status is not the SDK's view of getBackupJob
export type DriftCaught = AllTrue<{ getBackupJob: Extends<JobWithoutStatus, CallableReply<'getBackupJob'>> }>;
// @ts-expect-error registerChunks without `known` is not the SDK's view of it
export type MissingFieldCaught = AllTrue<{ registerChunks: Extends<{ missing: string[] }, CallableReply<'registerChunks'>> }>;
// @ts-expect-error an SDK reading a string where the protocol gives a number is not the protocol's view
export type SdkDriftCaught = AllTrue<{ job: Equals<Omit<BackupJob, 'createdAt'> & { createdAt: string }, CallableResult<'getBackupJob'>['job']> }>;

describe('callable views', () => {
  it('the server serves exactly the protocol\'s callables', () => {
    expect(Object.keys(API_HANDLERS).sort()).toEqual([...CALLABLE_NAMES].sort());
    expect(Object.keys(CALLABLES)).toEqual(CALLABLE_NAMES);
  });

  it('an answer the protocol refuses is refused, one from a newer server with more fields is read', () => {
    const job = {
      id: 'job-00000001', uid: 'u', deviceId: 'd', types: ['contacts'], options: {}, trigger: 'manual', scheduleId: null, status: 'running', phase: 'uploading',
      pauseReason: null, attempts: 1, lastError: null, uploadCommitted: false, snapshotId: null, createdAt: 1, updatedAt: 1, startedAt: 1, finishedAt: null, heartbeatAt: 1,
      progress: { totalChunks: 0, uploadedChunks: 0, processedChunks: 0, totalItems: 0, processedItems: 0, skippedItems: 0, bytesTotal: 0, bytesUploaded: 0, bytesDeduplicated: 0, bytesStored: 0, byType: {} },
    };
    expect(CALLABLES.getBackupJob.output.safeParse({ job }).success).toBe(true);
    expect(CALLABLES.getBackupJob.output.parse({ job: { ...job, fieldOfANewerServer: 1 } }).job).not.toHaveProperty('fieldOfANewerServer');
    expect(CALLABLES.getBackupJob.output.safeParse({ job: { ...job, status: 'exploded' } }).success).toBe(false);
    expect(CALLABLES.getBackupJob.output.safeParse({ job: { id: 'job-00000001' } }).success).toBe(false);
  });
});
