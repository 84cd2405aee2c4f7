/**
 * Garbage collection after backups, embedded: when a finalize task completes a job (and retention
 * has forgotten snapshots), the user's blobs are collected in the same worker slot. A run that
 * finds another job of the user active defers, and the next completed backup tries again.
 */
import { collectGarbage, DEFAULT_GC_GRACE_MS, type EngineDeps } from '@lifeboat/functions/core';
import type { QueueDefinition, TaskPayload } from '@lifeboat/functions/ports';

export interface GcAfterBackupOptions {
  /** Unreferenced blobs younger than this are kept. @default DEFAULT_GC_GRACE_MS (1 hour) */
  graceMs?: number;
  /** At most one run per user in this window, so frequent backups do not re-read every manifest each time. @default 900_000 (15 min) */
  minIntervalMs?: number;
  /** How long a run's lease fences the user's backups if the run dies without releasing it. @default DEFAULT_GC_LEASE_MS */
  leaseMs?: number;
}

/** Wraps the finalize queue so a completed job is followed by a GC run of its user. */
export function withGcAfterFinalize(definition: QueueDefinition, deps: EngineDeps, options: GcAfterBackupOptions = {}): QueueDefinition {
  if (definition.name !== 'finalize') return definition;
  const lastRun = new Map<string, number>();
  const minInterval = options.minIntervalMs ?? 15 * 60_000;
  return {
    ...definition,
    async handler(payload: TaskPayload, context) {
      await definition.handler(payload, context);
      const jobId = typeof payload['jobId'] === 'string' ? payload['jobId'] : null;
      const job = jobId ? await deps.store.getJob(jobId) : null;
      if (!job || job.status !== 'completed') return;
      const now = deps.clock.now();
      const previous = lastRun.get(job.uid);
      if (previous !== undefined && now - previous < minInterval) return;
      lastRun.set(job.uid, now);
      // GC is housekeeping: its failure must not fail (or retry) the backup that just completed.
      try {
        const report = await collectGarbage(deps, job.uid, { graceMs: options.graceMs ?? DEFAULT_GC_GRACE_MS, ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}) });
        if (report.deletedBlobs > 0 || report.status === 'deferred') {
          deps.logger.info(`gc after backup: ${report.status}`, {
            uid: job.uid,
            deletedBlobs: report.deletedBlobs,
            deletedBytes: report.deletedBytes,
            deferredBy: report.deferredBy.map((j) => j.jobId),
          });
        }
      } catch (err) {
        deps.logger.warn(`gc after backup failed [uid=${job.uid}]: ${(err as Error).message}`);
      }
    },
  };
}
