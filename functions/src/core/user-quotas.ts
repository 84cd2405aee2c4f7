/**
 * Per-user quotas (issue 12): what one user may hold and start, so no user takes more than a
 * deployment means to give. Each is off (null) unless the runtime sets it (Firebase params
 * `LIFEBOAT_QUOTA_*`, embedded runtime options). Exceeding one is `resource-exhausted`, not
 * retryable, with `details.limit` naming the quota, `details.max` and `details.current`, so the
 * SDK's error names it (docs/invariants.md, "Quotas"). A refused call changes nothing.
 */
import { z } from 'zod';
import type { BlobStore, CallOptions, Clock, JobStore } from '../ports';
import { lifeboatError } from './errors';
import type { BackupJob, JobStatus } from './model';
import { encodeStoredJson, readStoredJson, settingsKey } from './stored-json';

export interface UserQuotas {
  /**
   * Bytes a user's blobs may take in storage (each blob once, as `lifeboat stats --uid` counts
   * them). Checked when a job is created: a backup that starts under it may end over it by its
   * own size (`bytesPerJob` bounds that). @default null (none)
   */
  storedBytes: number | null;
  /** Jobs a user may create in any 24 hours (scheduled runs count; they are never refused). @default null */
  backupsPerDay: number | null;
  /** Jobs a user may have queued, running or paused at once. @default null */
  concurrentJobs: number | null;
  /** Raw bytes one job may register (known chunks count: they are the backup's size). @default null */
  bytesPerJob: number | null;
}

export type QuotaName = keyof UserQuotas;

/** What the quota checks read: the engine's deps (`EngineDeps`), named here so deps.ts can name `UserQuotas` without a cycle. */
interface QuotaDeps {
  store: JobStore;
  blobs: BlobStore;
  clock: Clock;
  quotas?: Partial<UserQuotas>;
}

export const NO_QUOTAS: Readonly<UserQuotas> = Object.freeze({ storedBytes: null, backupsPerDay: null, concurrentJobs: null, bytesPerJob: null });

/** The quotas in force: none, with the runtime's settings. */
export function quotasOf(deps: { quotas?: Partial<UserQuotas> }): UserQuotas {
  return { ...NO_QUOTAS, ...deps.quotas };
}

/** A quota's refusal: `resource-exhausted`, permanent, naming it. */
export function quotaExceeded(quota: QuotaName, max: number, current: number, message: string): Error {
  return lifeboatError('resource-exhausted', `${message} (quota ${quota}: ${max})`, {
    retryable: false,
    details: { limit: quota, max, current },
  });
}

const ACTIVE: readonly JobStatus[] = ['queued', 'running', 'paused'];
const DAY_MS = 24 * 3_600_000;

/**
 * Checks the quotas a new job must fit (`createBackupJob`): `concurrentJobs`, `backupsPerDay`,
 * `storedBytes`. `jobId` is the id the job would get: a call that created it already (a retried
 * create) is never refused, it only finds its job again.
 */
export async function assertJobQuotas(deps: Pick<QuotaDeps, 'store' | 'blobs' | 'clock' | 'quotas'>, uid: string, jobId: string): Promise<void> {
  const quotas = quotasOf(deps);
  if (quotas.concurrentJobs === null && quotas.backupsPerDay === null && quotas.storedBytes === null) return;
  if ((await deps.store.getJob(jobId))?.uid === uid) return;
  const now = deps.clock.now();
  if (quotas.concurrentJobs !== null) {
    const max = quotas.concurrentJobs;
    let active = 0;
    for (const status of ACTIVE) active += (await deps.store.listJobs({ uid, status, limit: Math.min(100, max + 1) })).items.length;
    if (active >= max) throw quotaExceeded('concurrentJobs', max, active, `createBackupJob: ${active} of the user's jobs are queued, running or paused; finish or cancel one first`);
  }
  if (quotas.backupsPerDay !== null) {
    const max = quotas.backupsPerDay;
    const today = await countJobsSince(deps, uid, now - DAY_MS, max + 1);
    if (today >= max) throw quotaExceeded('backupsPerDay', max, today, `createBackupJob: the user started ${today} backups in the last 24 hours`);
  }
  if (quotas.storedBytes !== null) {
    const max = quotas.storedBytes;
    const used = (await storedBytesOf(deps, uid)).bytes;
    if (used >= max) throw quotaExceeded('storedBytes', max, used, `createBackupJob: the user's backups take ${used} bytes of storage`);
  }
}

/**
 * Checks `bytesPerJob` before a registration adds `adding` raw bytes to a job that holds
 * `registered`: called by `registerChunks` before it writes, so a refused call registers nothing.
 */
export function assertBytesPerJob(deps: { quotas?: Partial<UserQuotas> }, jobId: string, registered: number, adding: number): void {
  const max = quotasOf(deps).bytesPerJob;
  if (max === null || adding === 0 || registered + adding <= max) return;
  throw quotaExceeded('bytesPerJob', max, registered + adding, `registerChunks: job ${jobId} holds ${registered} bytes and ${adding} more would pass the bytes a job may register`);
}

async function countJobsSince(deps: Pick<QuotaDeps, 'store'>, uid: string, since: number, atMost: number): Promise<number> {
  let count = 0;
  let cursor: string | undefined;
  do {
    const page = await deps.store.listJobs({ uid, limit: 100, ...(cursor ? { cursor } : {}) });
    for (const job of page.items) {
      if (job.createdAt < since) return count;
      if (++count >= atMost) return count;
    }
    cursor = page.nextCursor;
  } while (cursor);
  return count;
}

/** A measurement of a user's storage: their blobs, each once. */
export const StorageUsage = z.object({
  bytes: z.number().int().nonnegative(),
  blobs: z.number().int().nonnegative(),
  measuredAt: z.number().int(),
});
export type StorageUsage = z.infer<typeof StorageUsage>;

/** A measurement younger than this is used as it is (plus what backups stored since). @default 1 hour */
export const STORAGE_MEASURE_MAX_AGE_MS = 3_600_000;

function usageKey(uid: string): string {
  return settingsKey(uid, 'storage-usage');
}

/** The last measurement kept for a user, or null. */
export function lastStorageUsage(deps: Pick<QuotaDeps, 'blobs'>, uid: string, options: CallOptions = {}): Promise<StorageUsage | null> {
  return readStoredJson(deps.blobs, usageKey(uid), StorageUsage, `stored storage usage of ${uid} is invalid`, options);
}

/** Lists the user's blobs and keeps the sum (`settings/{uid}/storage-usage`). */
export async function measureUserStorage(deps: Pick<QuotaDeps, 'blobs' | 'clock'>, uid: string, options: CallOptions = {}): Promise<StorageUsage> {
  const usage = { bytes: 0, blobs: 0, measuredAt: deps.clock.now() };
  for await (const blob of deps.blobs.list(`users/${uid}/blobs/`, options)) {
    usage.blobs += 1;
    usage.bytes += blob.size;
  }
  await deps.blobs.put(usageKey(uid), encodeStoredJson(usage), options);
  return usage;
}

/**
 * What a user's blobs take: the last measurement if it is recent, plus the bytes jobs stored
 * since (their `bytesStored`), else a new measurement. Garbage collection only frees, so the sum
 * never under-counts.
 */
export async function storedBytesOf(deps: Pick<QuotaDeps, 'store' | 'blobs' | 'clock'>, uid: string): Promise<StorageUsage> {
  const now = deps.clock.now();
  const last = await lastStorageUsage(deps, uid);
  if (!last || now - last.measuredAt > STORAGE_MEASURE_MAX_AGE_MS) return measureUserStorage(deps, uid);
  let since = 0;
  let cursor: string | undefined;
  // Jobs finished after the measurement; none runs longer than a day (the sweeper fails it).
  outer: do {
    const page = await deps.store.listJobs({ uid, limit: 100, ...(cursor ? { cursor } : {}) });
    for (const job of page.items) {
      if (job.createdAt < last.measuredAt - DAY_MS) break outer;
      if (storedSince(job, last.measuredAt)) since += job.progress.bytesStored;
    }
    cursor = page.nextCursor;
  } while (cursor);
  return { ...last, bytes: last.bytes + since };
}

/** A job that completed after the measurement may have stored bytes it did not see (some it did: counted twice, never missed). */
function storedSince(job: BackupJob, measuredAt: number): boolean {
  return job.status === 'completed' && (job.finishedAt ?? 0) > measuredAt;
}
