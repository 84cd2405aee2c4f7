import { LIFECYCLE_EVENT_TYPES, type BackupEventData, type JobStore, type JobTransaction, type LifecycleEvent, type LifecycleEventPublisher, type Logger } from '../../ports';
import type { BackupJob, Snapshot } from '../model';
import { messageOf } from '../errors';
import { override } from '../override';

/**
 * Lifecycle events for the host app (ports/lifecycle-events.ts), raised where the state changes
 * are committed: a JobStore that watches the jobs and snapshots each transaction writes and,
 * once it has committed, publishes what changed. So every path that completes, fails or parks a
 * job (finalize, a step's last failure, the sweeper, the schedule dispatcher, cancel) and every
 * verify raises its event without knowing of events, on both runtimes, and no event announces a
 * state that was not committed.
 *
 * A transaction function may run several times; only the attempt that committed counts. A
 * change is judged against the document as the same transaction read it; a write of a document
 * the transaction did not read counts as a change. Publishing is awaited (a Cloud Function may be
 * frozen once it returns) and never fails the caller: a failed publish is logged.
 */
export function withLifecycleEvents(store: JobStore, publisher: LifecycleEventPublisher, logger: Logger): JobStore {
  const publishAll = async (events: LifecycleEvent[]): Promise<void> => {
    for (const event of events) {
      try {
        await publisher.publish(event);
      } catch (err) {
        logger.warn('lifecycle event not published', { type: event.type, subject: event.subject, error: messageOf(err) });
      }
    }
  };
  return override(store, {
    async createJob(job, options) {
      const result = await store.createJob(job, options);
      if (result.created) await publishAll(jobEvents(null, job));
      return result;
    },
    async runTransaction<T>(fn: (tx: JobTransaction) => Promise<T>, options?: Parameters<JobStore['runTransaction']>[1]): Promise<T> {
      let seen = new Seen();
      const result = await store.runTransaction(async (tx) => {
        seen = new Seen();
        return fn(observed(tx, seen));
      }, options);
      await publishAll(seen.events());
      return result;
    },
  });
}

/** What one transaction attempt read and wrote. */
class Seen {
  readonly readJobs = new Map<string, BackupJob | null>();
  readonly readSnapshots = new Map<string, Snapshot | null>();
  readonly jobs = new Map<string, BackupJob>();
  readonly snapshots = new Map<string, Snapshot>();

  events(): LifecycleEvent[] {
    return [
      ...[...this.jobs.values()].flatMap((job) => jobEvents(this.readJobs.has(job.id) ? (this.readJobs.get(job.id) ?? null) : undefined, job)),
      ...[...this.snapshots.values()].flatMap((snapshot) => snapshotEvents(this.readSnapshots.has(snapshot.id) ? (this.readSnapshots.get(snapshot.id) ?? null) : undefined, snapshot)),
    ];
  }
}

function observed(tx: JobTransaction, seen: Seen): JobTransaction {
  return override(tx, {
    async getJob(jobId) {
      const job = await tx.getJob(jobId);
      if (!seen.readJobs.has(jobId)) seen.readJobs.set(jobId, job);
      return job;
    },
    async getSnapshot(snapshotId) {
      const snapshot = await tx.getSnapshot(snapshotId);
      if (!seen.readSnapshots.has(snapshotId)) seen.readSnapshots.set(snapshotId, snapshot);
      return snapshot;
    },
    setJob(job) {
      tx.setJob(job);
      seen.jobs.set(job.id, job);
    },
    setSnapshot(snapshot) {
      tx.setSnapshot(snapshot);
      seen.snapshots.set(snapshot.id, snapshot);
    },
  });
}

function backupData(job: BackupJob, at: number): BackupEventData {
  return { jobId: job.id, uid: job.uid, deviceId: job.deviceId, trigger: job.trigger, scheduleId: job.scheduleId, types: [...job.types], at };
}

const waiting = (job: BackupJob | null | undefined): boolean => job?.status === 'paused' && job.pauseReason === 'waiting_for_device';

/**
 * The events of a job going from `before` (null: created; undefined: not read) to `after`.
 * Exported for tests.
 */
export function jobEvents(before: BackupJob | null | undefined, after: BackupJob): LifecycleEvent[] {
  const subject = `backupJobs/${after.id}`;
  if (after.status === 'completed' && before?.status !== 'completed') {
    const { processedItems, skippedItems, bytesUploaded, bytesStored } = after.progress;
    return [{ type: LIFECYCLE_EVENT_TYPES.backupCompleted, subject, data: { ...backupData(after, after.finishedAt ?? after.updatedAt), snapshotId: after.snapshotId, processedItems, skippedItems, bytesUploaded, bytesStored } }];
  }
  if (after.status === 'failed' && before?.status !== 'failed') {
    const error = after.lastError ? { code: after.lastError.code, message: after.lastError.message, step: after.lastError.step } : null;
    return [{ type: LIFECYCLE_EVENT_TYPES.backupFailed, subject, data: { ...backupData(after, after.finishedAt ?? after.updatedAt), error } }];
  }
  if (waiting(after) && !waiting(before)) {
    return [{ type: LIFECYCLE_EVENT_TYPES.waitingForDevice, subject, data: backupData(after, after.updatedAt) }];
  }
  return [];
}

/** The event of a snapshot's health going from `before`'s to `after`'s, if it changed. Exported for tests. */
export function snapshotEvents(before: Snapshot | null | undefined, after: Snapshot): LifecycleEvent[] {
  const health = after.health;
  if (!health) return [];
  const previous = before?.health ? { ok: before.health.ok, problems: before.health.problems } : null;
  if (previous && previous.ok === health.ok && previous.problems === health.problems) return [];
  return [
    {
      type: LIFECYCLE_EVENT_TYPES.snapshotHealthChanged,
      subject: `snapshots/${after.id}`,
      data: { snapshotId: after.id, uid: after.uid, deviceId: after.deviceId, ok: health.ok, problems: health.problems, checkedBlobs: health.checkedBlobs, checkedAt: health.checkedAt, previous },
    },
  ];
}
