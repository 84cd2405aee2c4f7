/**
 * Users as the dashboard lists them: how much their backups take, their snapshots, schedules,
 * last backup and a health word, from a handful of reads per user (no manifest, no blob listing:
 * storage is the last measurement kept, `measureStorage` takes a new one).
 */
import type { BackupJob, JobError, Snapshot } from '../model';
import { readCheckRecordLeniently, type CheckRecord } from '../snapshots/check-task';
import { isActive } from '../state-machine';
import { lastStorageUsage, quotasOf, type StorageUsage, type UserQuotas } from '../user-quotas';
import type { AdminDeps } from './admin-deps';

/** A user's last completed backup older than this makes them `stale`. @default 7 days */
export const STALE_USER_MS = 7 * 24 * 3_600_000;

export const USER_HEALTH = ['ok', 'failing', 'problems', 'stale', 'never-backed-up'] as const;
export type UserHealth = (typeof USER_HEALTH)[number];

export interface UserSummary {
  uid: string;
  latestJob: Pick<BackupJob, 'id' | 'status' | 'createdAt' | 'finishedAt' | 'deviceId'> & { lastError: JobError | null } | null;
  /** Jobs queued, running or paused among the newest 20. */
  activeJobs: number;
  /** When the newest completed job (among the newest 20) finished. */
  lastBackupAt: number | null;
  snapshots: number;
  latestSnapshot: Pick<Snapshot, 'id' | 'createdAt' | 'health'> | null;
  schedules: number;
  /** The last storage measurement kept, or null when never measured. */
  storage: StorageUsage | null;
  /** The latest repository check asked for (`checkUser`), or null when none was. */
  check: CheckRecord | null;
  health: UserHealth;
  /** Why the health word is what it is. */
  healthReason: string;
}

export async function userSummary(deps: AdminDeps, uid: string): Promise<UserSummary> {
  const now = deps.clock.now();
  const [jobs, snapshots, latestSnapshots, schedules, storage, check] = await Promise.all([
    deps.store.listJobs({ uid, limit: 20 }),
    deps.admin.countSnapshots(uid),
    deps.store.listSnapshots({ uid, limit: 1 }),
    deps.store.listSchedules(uid),
    lastStorageUsage(deps, uid),
    readCheckRecordLeniently(deps, uid),
  ]);
  const latest = jobs.items[0] ?? null;
  const completed = jobs.items.find((j) => j.status === 'completed') ?? null;
  const finished = jobs.items.find((j) => j.status === 'completed' || j.status === 'failed') ?? null;
  const snapshot = latestSnapshots.items[0] ?? null;
  let health: UserHealth = 'ok';
  let healthReason = 'last backup completed';
  if (snapshot?.health && !snapshot.health.ok) {
    health = 'problems';
    healthReason = `the last verify of ${snapshot.id} found ${snapshot.health.problems} problem(s)`;
  } else if (check?.status === 'done' && check.result && check.result.remaining > 0) {
    health = 'problems';
    healthReason = `the last check found ${check.result.remaining} problem(s) that remain`;
  } else if (finished?.status === 'failed') {
    health = 'failing';
    healthReason = `the last backup failed: ${finished.lastError ? `${finished.lastError.code}: ${finished.lastError.message}` : 'no error recorded'}`;
  } else if (!completed) {
    health = 'never-backed-up';
    healthReason = 'no completed backup among the newest jobs';
  } else if (now - (completed.finishedAt ?? completed.createdAt) > STALE_USER_MS) {
    health = 'stale';
    healthReason = 'no completed backup in the last 7 days';
  }
  return {
    uid,
    latestJob: latest && { id: latest.id, status: latest.status, createdAt: latest.createdAt, finishedAt: latest.finishedAt, deviceId: latest.deviceId, lastError: latest.lastError },
    activeJobs: jobs.items.filter((j) => isActive(j.status)).length,
    lastBackupAt: completed ? (completed.finishedAt ?? completed.createdAt) : null,
    snapshots,
    latestSnapshot: snapshot && { id: snapshot.id, createdAt: snapshot.createdAt, health: snapshot.health },
    schedules: schedules.length,
    storage,
    check,
    health,
    healthReason,
  };
}

/** A user's page: the summary, their newest jobs and snapshots, schedules, and quotas against use. */
export interface UserDetail extends UserSummary {
  jobs: BackupJob[];
  recentSnapshots: Snapshot[];
  scheduleList: Awaited<ReturnType<AdminDeps['store']['listSchedules']>>;
  quotas: UserQuotas;
}

export async function userDetail(deps: AdminDeps, uid: string): Promise<UserDetail> {
  const [summary, jobs, snaps, scheduleList] = await Promise.all([
    userSummary(deps, uid),
    deps.store.listJobs({ uid, limit: 20 }),
    deps.store.listSnapshots({ uid, limit: 20 }),
    deps.store.listSchedules(uid),
  ]);
  return { ...summary, jobs: jobs.items, recentSnapshots: snaps.items, scheduleList, quotas: quotasOf(deps) };
}
