/**
 * The embedded runtime's admin dashboard: `GET /dashboard` is the page both runtimes serve
 * (`core/admin/dashboard-page.ts`), which asks the admin API at `POST /dashboard/api/{name}`
 * with an admin token (`lifeboat token --admin`, or the link `lifeboat serve` prints). User tokens
 * are refused: the data spans users. `GET /dashboard/data` keeps the older one-shot summary
 * (the newest 50 jobs and 20 snapshots, the queue) for scripts that read it.
 */
import type { BackupJob, Snapshot } from '@lifeboat/engine/core';
import type { SqliteJobStore } from '../adapters/sqlite-job-store';
import type { QueueOverview, SqliteTaskQueue } from '../adapters/sqlite-task-queue';

/** What the dashboard reads: the runtime's SQLite store and queue. */
export interface DashboardSource {
  store: Pick<SqliteJobStore, 'recentJobs' | 'recentSnapshots' | 'jobStatusCounts'>;
  queue: Pick<SqliteTaskQueue, 'overview'>;
}

export interface DashboardData {
  generatedAt: number;
  jobCounts: Partial<Record<BackupJob['status'], number>>;
  jobs: Array<
    Pick<BackupJob, 'id' | 'uid' | 'deviceId' | 'types' | 'trigger' | 'status' | 'phase' | 'pauseReason' | 'attempts' | 'snapshotId' | 'createdAt' | 'updatedAt'> & {
      progress: Pick<BackupJob['progress'], 'processedItems' | 'totalItems' | 'skippedItems' | 'bytesUploaded' | 'bytesTotal' | 'bytesStored' | 'processedChunks' | 'totalChunks'>;
      lastError: { code: string; message: string } | null;
    }
  >;
  snapshots: Array<Pick<Snapshot, 'id' | 'uid' | 'deviceId' | 'jobId' | 'createdAt' | 'totals' | 'health'>>;
  queue: QueueOverview;
}

/** The dashboard's view of the runtime now: the newest 50 jobs and 20 snapshots. */
export function dashboardData({ store, queue }: DashboardSource, now: number): DashboardData {
  return {
    generatedAt: now,
    jobCounts: store.jobStatusCounts(),
    jobs: store.recentJobs(50).map((j) => ({
      id: j.id,
      uid: j.uid,
      deviceId: j.deviceId,
      types: j.types,
      trigger: j.trigger,
      status: j.status,
      phase: j.phase,
      pauseReason: j.pauseReason,
      attempts: j.attempts,
      snapshotId: j.snapshotId,
      createdAt: j.createdAt,
      updatedAt: j.updatedAt,
      progress: {
        processedItems: j.progress.processedItems,
        totalItems: j.progress.totalItems,
        skippedItems: j.progress.skippedItems,
        bytesUploaded: j.progress.bytesUploaded,
        bytesTotal: j.progress.bytesTotal,
        bytesStored: j.progress.bytesStored,
        processedChunks: j.progress.processedChunks,
        totalChunks: j.progress.totalChunks,
      },
      lastError: j.lastError ? { code: j.lastError.code, message: j.lastError.message } : null,
    })),
    snapshots: store.recentSnapshots(20).map((s) => ({ id: s.id, uid: s.uid, deviceId: s.deviceId, jobId: s.jobId, createdAt: s.createdAt, totals: s.totals, health: s.health })),
    queue: queue.overview(10),
  };
}
