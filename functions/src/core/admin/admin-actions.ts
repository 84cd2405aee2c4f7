/**
 * What an admin may do to a user's data, each through the same engine code the owner's own calls
 * run (so every rule of those calls holds: a retry only of a failed job, a cancel that cleans up,
 * GC behind its lease, a deletion that destroys the key first), and each written to the log with
 * who asked.
 */
import { DELETE_CALL_BUDGET_MS } from '../api/deletion';
import { cancelBackup, retryBackup } from '../api/job-control';
import { deleteUserSnapshot, type DeleteSnapshotResult } from '../deletion/delete-snapshot';
import { deleteUserData, type DeletionReport } from '../deletion/delete-user-data';
import { lifeboatError } from '../errors';
import { requireJob } from '../jobs';
import type { BackupJob } from '../model';
import { requestCheck, type CheckRecord } from '../snapshots/check-task';
import { collectGarbage, DEFAULT_GC_GRACE_MS, type GcReport } from '../snapshots/gc';
import { startVerify, type StartedVerify } from '../snapshots/verify-rounds';
import { measureUserStorage, type StorageUsage } from '../user-quotas';
import type { AdminDeps } from './admin-deps';

function audit(deps: AdminDeps, actor: string, action: string, fields: Record<string, unknown>): void {
  deps.logger.info(`admin ${action}`, { actor, action, ...fields });
}

/** `failed -> queued`, then kickoff resumes it where it stopped (retryBackup as its owner). */
export async function adminRetryJob(deps: AdminDeps, actor: string, jobId: string): Promise<BackupJob> {
  const job = await requireJob(deps.store, jobId);
  audit(deps, actor, 'retry', { jobId, uid: job.uid });
  return (await retryBackup({ auth: { uid: job.uid }, data: { jobId } }, deps)).job;
}

/** Cancels a job that has not completed (cancelBackup as its owner: its uploads are discarded). */
export async function adminCancelJob(deps: AdminDeps, actor: string, jobId: string): Promise<BackupJob> {
  const job = await requireJob(deps.store, jobId);
  audit(deps, actor, 'cancel', { jobId, uid: job.uid });
  return (await cancelBackup({ auth: { uid: job.uid }, data: { jobId } }, deps)).job;
}

/**
 * Re-reads a snapshot's blobs (or a share); the result becomes its health. Bounded as the owner's
 * `verifySnapshot` call is (verify-rounds.ts): `{ report }` when it finishes within about 20 s,
 * else `{ report: null, verification }` at once while `maintenance` tasks go on in rounds; while a
 * verify of the snapshot runs, its record.
 */
export async function adminVerifySnapshot(deps: AdminDeps, actor: string, snapshotId: string, samplePercent?: number): Promise<StartedVerify> {
  const snapshot = await deps.store.getSnapshot(snapshotId);
  if (!snapshot) throw lifeboatError('not-found', `snapshot ${snapshotId} does not exist`, { details: { snapshotId } });
  audit(deps, actor, 'verify', { snapshotId, uid: snapshot.uid });
  return startVerify(deps, snapshot, samplePercent ?? 100);
}

/**
 * Asks for a check (with `repair`, a repair) of a user's repository (snapshots/check-task.ts): a
 * `maintenance` task runs it and keeps its record, which the user's page shows. Answers at once
 * with the record, `started: false` when a check of theirs is already queued or running.
 */
export async function adminCheckUser(deps: AdminDeps, actor: string, uid: string, options: { readDataPercent?: number; repair: boolean }): Promise<{ record: CheckRecord; started: boolean }> {
  const asked = await requestCheck(deps, { uid, ...(options.readDataPercent !== undefined ? { readDataPercent: options.readDataPercent } : {}), repair: options.repair, actor });
  audit(deps, actor, options.repair ? 'check-repair' : 'check', { uid, readDataPercent: options.readDataPercent ?? 0, requestedAt: asked.record.requestedAt, started: asked.started });
  return asked;
}

/** One garbage collection run for a user (behind its lease; it defers while a backup of theirs is active). */
export async function adminCollectGarbage(deps: AdminDeps, actor: string, uid: string, options: { dryRun?: boolean; graceMs?: number } = {}): Promise<GcReport> {
  audit(deps, actor, 'gc', { uid, dryRun: options.dryRun ?? false });
  return collectGarbage(deps, uid, { graceMs: options.graceMs ?? DEFAULT_GC_GRACE_MS, dryRun: options.dryRun ?? false });
}

/** Lists the user's blobs and keeps what they take (the users page and the storedBytes quota read it). */
export async function adminMeasureStorage(deps: AdminDeps, actor: string, uid: string): Promise<StorageUsage> {
  audit(deps, actor, 'measure-storage', { uid });
  return measureUserStorage(deps, uid);
}

/**
 * Deletes a snapshot as its owner's `deleteSnapshot` does (core/deletion/delete-snapshot.ts): the
 * record at once, then GC for the owner within the call's budget ({@link DELETE_CALL_BUDGET_MS});
 * what GC leaves (young blobs, a backup of theirs running) goes at a later run.
 * @throws LifeboatError `not-found` when no snapshot has this id (already deleted, or never was).
 */
export async function adminDeleteSnapshot(deps: AdminDeps, actor: string, snapshotId: string): Promise<DeleteSnapshotResult> {
  const snapshot = await deps.store.getSnapshot(snapshotId);
  if (!snapshot) throw lifeboatError('not-found', `snapshot ${snapshotId} does not exist`, { details: { snapshotId } });
  audit(deps, actor, 'delete-snapshot', { snapshotId, uid: snapshot.uid });
  return deleteUserSnapshot(deps, snapshot.uid, snapshotId, { stopAt: deps.clock.now() + DELETE_CALL_BUDGET_MS });
}

/**
 * Deletes (or carries on deleting) all of a user's data as `deleteMyData` does, recorded with the
 * reason `admin` (core/deletion/delete-user-data.ts): one run bounded by
 * {@link DELETE_CALL_BUDGET_MS}; a `running` report means call again (the dashboard does until it
 * is not). A run carrying on a deletion started otherwise keeps that deletion's reason.
 */
export async function adminDeleteUserData(deps: AdminDeps, actor: string, uid: string): Promise<DeletionReport> {
  audit(deps, actor, 'delete-user-data', { uid });
  return deleteUserData(deps, uid, { reason: 'admin', stopAt: deps.clock.now() + DELETE_CALL_BUDGET_MS });
}
