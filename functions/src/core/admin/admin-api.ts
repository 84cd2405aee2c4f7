/**
 * The admin API both runtimes serve to the dashboard (embedded: `POST /dashboard/api/{name}`;
 * Firebase: `POST {adminDashboard}/api/{name}`), in the callable protocol's shape (`{data}` in,
 * `{result}` or `{error}` out). Callers check the admin claim before calling; every input is
 * parsed here, and a bad one is `invalid-argument`.
 */
import { z } from 'zod';
import { parseInput } from '../api/callable';
import { DeleteSnapshotInput, JobId } from '@lifeboat/protocol';
import { BackupType, JobStatus } from '../model';
import { CheckUid } from '../snapshots/check-repository';
import type { AdminHandler } from './admin-deps';
import { adminCancelJob, adminCheckUser, adminCollectGarbage, adminDeleteSnapshot, adminDeleteUserData, adminMeasureStorage, adminRetryJob, adminVerifySnapshot } from './admin-actions';
import { adminCharts } from './admin-charts';
import { jobDetail } from './job-detail';
import { jobViews } from './job-views';
import { userDetail, userSummary } from './user-summaries';

const Uid = z.string().min(1).max(128);
const Cursor = z.string().min(1).max(1000);
const Time = z.number().int().nonnegative();

export const AdminJobsInput = z.strictObject({
  status: JobStatus.optional(),
  uid: Uid.optional(),
  deviceId: z.string().min(1).max(128).optional(),
  type: BackupType.optional(),
  from: Time.optional(),
  to: Time.optional(),
  limit: z.number().int().min(1).max(100).optional(),
  cursor: Cursor.optional(),
});

const Empty = z.strictObject({});

export const AdminDeleteUserDataInput = z.strictObject({
  uid: CheckUid,
  /** Deleting every backup of a user cannot be undone: the caller says so. */
  confirm: z.literal(true, { error: 'deleteUserData deletes every backup of the user and cannot be undone: pass confirm: true' }),
});

/** The fields that were given (zod leaves absent optional fields `undefined`; the ports take them absent). */
function given<T extends object>(input: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

/** Every admin call by name. */
export const ADMIN_HANDLERS = Object.freeze({
  /** Job counts by status and the queues now. */
  overview: (async (req, deps) => {
    parseInput(Empty, req.data, 'overview');
    const [jobCounts, queues] = await Promise.all([deps.admin.jobStatusCounts(), deps.queues.overview()]);
    return { generatedAt: deps.clock.now(), jobCounts, queues };
  }) satisfies AdminHandler,
  /** Every user's jobs, newest first, filtered and paged (a page may be short: only a missing cursor ends it). */
  jobs: (async (req, deps) => {
    const input = parseInput(AdminJobsInput, req.data, 'jobs');
    const page = await deps.admin.listJobs(given(input));
    return { jobs: await jobViews(deps, page.items), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
  }) satisfies AdminHandler,
  job: (async (req, deps) => {
    const { jobId, chunkCursor } = parseInput(z.strictObject({ jobId: JobId, chunkCursor: Cursor.optional() }), req.data, 'job');
    return jobDetail(deps, jobId, chunkCursor);
  }) satisfies AdminHandler,
  users: (async (req, deps) => {
    const input = parseInput(z.strictObject({ limit: z.number().int().min(1).max(100).optional(), cursor: Cursor.optional() }), req.data, 'users');
    const page = await deps.admin.listUsers(given(input));
    return { users: await Promise.all(page.items.map((uid) => userSummary(deps, uid))), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
  }) satisfies AdminHandler,
  user: (async (req, deps) => {
    const { uid } = parseInput(z.strictObject({ uid: Uid }), req.data, 'user');
    return userDetail(deps, uid);
  }) satisfies AdminHandler,
  snapshots: (async (req, deps) => {
    const input = parseInput(z.strictObject({ uid: Uid.optional(), limit: z.number().int().min(1).max(100).optional(), cursor: Cursor.optional() }), req.data, 'snapshots');
    return deps.admin.listSnapshots(given(input));
  }) satisfies AdminHandler,
  /** The queues now, with their depth over the last day (queue samples). */
  queues: (async (req, deps) => {
    parseInput(Empty, req.data, 'queues');
    const [overview, samples] = await Promise.all([deps.queues.overview(), deps.admin.listQueueSamples(deps.clock.now() - 24 * 3_600_000, 2000)]);
    return { ...overview, samples };
  }) satisfies AdminHandler,
  charts: (async (req, deps) => {
    parseInput(Empty, req.data, 'charts');
    return adminCharts(deps);
  }) satisfies AdminHandler,
  retryJob: (async (req, deps) => {
    const { jobId } = parseInput(z.strictObject({ jobId: JobId }), req.data, 'retryJob');
    return { job: await adminRetryJob(deps, req.actor, jobId) };
  }) satisfies AdminHandler,
  cancelJob: (async (req, deps) => {
    const { jobId } = parseInput(z.strictObject({ jobId: JobId }), req.data, 'cancelJob');
    return { job: await adminCancelJob(deps, req.actor, jobId) };
  }) satisfies AdminHandler,
  verifySnapshot: (async (req, deps) => {
    const { snapshotId, samplePercent } = parseInput(z.strictObject({ snapshotId: z.string().min(1).max(200), samplePercent: z.number().min(1).max(100).optional() }), req.data, 'verifySnapshot');
    return adminVerifySnapshot(deps, req.actor, snapshotId, samplePercent);
  }) satisfies AdminHandler,
  /** Enqueues a check (and with `repair`, a repair) of a user's repository; answers with its record at once. */
  checkUser: (async (req, deps) => {
    const { uid, readDataPercent, repair } = parseInput(z.strictObject({ uid: CheckUid, readDataPercent: z.number().min(0).max(100).optional(), repair: z.boolean() }), req.data, 'checkUser');
    return adminCheckUser(deps, req.actor, uid, { ...(readDataPercent !== undefined ? { readDataPercent } : {}), repair });
  }) satisfies AdminHandler,
  collectGarbage: (async (req, deps) => {
    const { uid, dryRun, graceHours } = parseInput(z.strictObject({ uid: Uid, dryRun: z.boolean().optional(), graceHours: z.number().min(0).max(24 * 30).optional() }), req.data, 'collectGarbage');
    return { report: await adminCollectGarbage(deps, req.actor, uid, { ...(dryRun !== undefined ? { dryRun } : {}), ...(graceHours !== undefined ? { graceMs: graceHours * 3_600_000 } : {}) }) };
  }) satisfies AdminHandler,
  /** Deletes a snapshot as its owner would (the record at once, then GC); `{ deletion }`. */
  deleteSnapshot: (async (req, deps) => {
    const { snapshotId } = parseInput(DeleteSnapshotInput, req.data, 'deleteSnapshot');
    return { deletion: await adminDeleteSnapshot(deps, req.actor, snapshotId) };
  }) satisfies AdminHandler,
  /** One bounded run of deleting all of a user's data; `{ deletion }`, its status `running` until all is gone: call again. */
  deleteUserData: (async (req, deps) => {
    const { uid } = parseInput(AdminDeleteUserDataInput, req.data, 'deleteUserData');
    return { deletion: await adminDeleteUserData(deps, req.actor, uid) };
  }) satisfies AdminHandler,
  measureStorage: (async (req, deps) => {
    const { uid } = parseInput(z.strictObject({ uid: Uid }), req.data, 'measureStorage');
    return { storage: await adminMeasureStorage(deps, req.actor, uid) };
  }) satisfies AdminHandler,
});

export type AdminApiName = keyof typeof ADMIN_HANDLERS;

export function isAdminApiName(name: string): name is AdminApiName {
  return Object.hasOwn(ADMIN_HANDLERS, name);
}
