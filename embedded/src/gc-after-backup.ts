/**
 * Garbage collection after backups, embedded: when a finalize task completes a job (and retention
 * has forgotten snapshots), the user's blobs are collected in the same worker slot, and partial
 * uploads no live session owns are swept. A run that finds another job of the user active defers,
 * and the next completed backup tries again. Stopping the runtime (or the task's deadline) aborts
 * a run, which releases its lease on the way out.
 */
import { collectGarbage, DEFAULT_GC_GRACE_MS, type EngineDeps } from '@lifeboat/engine/core';
import type { QueueDefinition, TaskPayload } from '@lifeboat/engine/ports';

export interface GcAfterBackupOptions {
  /** Unreferenced blobs younger than this are kept. @default DEFAULT_GC_GRACE_MS (1 hour) */
  graceMs?: number;
  /** At most one run per user in this window, so frequent backups do not re-read every manifest each time. @default 900_000 (15 min) */
  minIntervalMs?: number;
  /** Lifetime of each write of a run's lease: the longest a run that died fences the user's backups. @default DEFAULT_GC_LEASE_MS (1 minute) */
  leaseMs?: number;
  /** Aborts a run in progress (the runtime stopping); the run releases its lease. @default none */
  signal?: AbortSignal;
  /** Swept after each run (`ResumableUploads.sweep`): partial uploads of jobs no longer live. @default none */
  uploads?: { sweep(): Promise<unknown> };
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
      const signals = [options.signal, context.signal].filter((s): s is AbortSignal => s !== undefined);
      const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
      // GC is housekeeping: its failure must not fail (or retry) the backup that just completed.
      try {
        const report = await collectGarbage(deps, job.uid, {
          graceMs: options.graceMs ?? DEFAULT_GC_GRACE_MS,
          ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}),
          ...(signal ? { signal } : {}),
        });
        if (report.deletedBlobs > 0 || report.status === 'deferred' || report.stoppedEarly) {
          deps.logger.info(`gc after backup: ${report.status}`, {
            uid: job.uid,
            deletedBlobs: report.deletedBlobs,
            deletedBytes: report.deletedBytes,
            deferredBy: report.deferredBy.map((j) => j.jobId),
            ...(report.stopReason ? { stopReason: report.stopReason } : {}),
          });
        }
      } catch (err) {
        deps.logger.warn(`gc after backup failed [uid=${job.uid}]: ${(err as Error).message}`);
      }
      if (signal?.aborted) return;
      try {
        await options.uploads?.sweep();
      } catch (err) {
        deps.logger.warn(`partial upload sweep after backup failed: ${(err as Error).message}`);
      }
    },
  };
}
