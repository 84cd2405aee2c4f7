import type { CallOptions } from './common';

/**
 * The event types Lifeboat publishes for the host app (docs/firebase.md, "Events for the host
 * app"): Eventarc custom event types on Firebase, the `type` of a log line or hook call embedded.
 */
export const LIFECYCLE_EVENT_TYPES = Object.freeze({
  backupCompleted: 'lifeboat.backup.v1.completed',
  backupFailed: 'lifeboat.backup.v1.failed',
  waitingForDevice: 'lifeboat.backup.v1.waitingForDevice',
  snapshotHealthChanged: 'lifeboat.snapshot.v1.healthChanged',
} as const);
export type LifecycleEventType = (typeof LIFECYCLE_EVENT_TYPES)[keyof typeof LIFECYCLE_EVENT_TYPES];

/** What every backup event says about its job. */
export interface BackupEventData {
  jobId: string;
  uid: string;
  deviceId: string;
  /** `manual`, `nightly`, … (the job's trigger). */
  trigger: string;
  scheduleId: string | null;
  types: string[];
  /** When the job reached this state, epoch milliseconds. */
  at: number;
}

/**
 * One lifecycle event. `subject` names the document it is about (`backupJobs/{jobId}`,
 * `snapshots/{snapshotId}`), as a Firestore trigger's subject would.
 */
export type LifecycleEvent =
  | {
      type: typeof LIFECYCLE_EVENT_TYPES.backupCompleted;
      subject: string;
      data: BackupEventData & { snapshotId: string | null; processedItems: number; skippedItems: number; bytesUploaded: number; bytesStored: number };
    }
  | {
      type: typeof LIFECYCLE_EVENT_TYPES.backupFailed;
      subject: string;
      data: BackupEventData & { error: { code: string; message: string; step: string } | null };
    }
  | {
      type: typeof LIFECYCLE_EVENT_TYPES.waitingForDevice;
      subject: string;
      data: BackupEventData;
    }
  | {
      type: typeof LIFECYCLE_EVENT_TYPES.snapshotHealthChanged;
      subject: string;
      data: {
        snapshotId: string;
        uid: string;
        deviceId: string;
        ok: boolean;
        problems: number;
        checkedBlobs: number;
        checkedAt: number;
        /** The health before this check; null when the snapshot had never been checked. */
        previous: { ok: boolean; problems: number } | null;
      };
    };

/**
 * Publishes lifecycle events to the host app: Eventarc on Firebase, a log line and a hook
 * embedded. Events describe state already committed; publishing is at most once per state change
 * (a publish that fails is logged by the caller and not retried), so a subscriber that must not
 * miss a state reads the job or snapshot, which is the source of truth.
 *
 * Contract: `publish` resolves once the event is handed over; it rejects with a coded
 * LifeboatError when it could not be (the caller logs it and carries on: an event never fails a
 * backup).
 */
export interface LifecycleEventPublisher {
  publish(event: LifecycleEvent, options?: CallOptions): Promise<void>;
}
