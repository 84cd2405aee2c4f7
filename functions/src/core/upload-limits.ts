/**
 * Per-user limits on what a device may ask the server to hold for uploads (issue 16: one user
 * must not fill the disk all users share). Exceeding one is `resource-exhausted`, not retryable,
 * with `details.limit` naming it (docs/invariants.md, "Upload limits").
 */
import type { BackupJob } from './model';

export interface UploadLimits {
  /**
   * Most chunks one job may register. A million chat messages are a few thousand chunks and a
   * photo library of tens of thousands of files as many chunks (a video over 64 MiB one per
   * 8 MiB part), so the default leaves room for any real backup while bounding what one job
   * makes the server track. @default 100 000
   */
  chunksPerJob: number;
  /**
   * Most upload sessions a user may hold open at once, over all their jobs. The SDK opens at most
   * `parallelUploads` (4, at most 32) at a time per backup, and a chunk keeps its one open session
   * when begun again, so only abandoned sessions pile up: cancel or failure removes them. With
   * chunks of at most 64 MiB this bounds a user's partial bytes on an embedded server's disk to
   * 4 GiB. Counted only where the store keeps the sessions (embedded); GCS holds them itself.
   * @default 64
   */
  openUploadSessions: number;
}

/** The limits every runtime applies unless `EngineDeps.uploadLimits` overrides one. */
export const DEFAULT_UPLOAD_LIMITS: Readonly<UploadLimits> = Object.freeze({
  chunksPerJob: 100_000,
  openUploadSessions: 64,
});

/** The limits in force: the defaults with the runtime's overrides. */
export function uploadLimitsOf(deps: { uploadLimits?: Partial<UploadLimits> }): UploadLimits {
  return { ...DEFAULT_UPLOAD_LIMITS, ...deps.uploadLimits };
}

/**
 * Whether a job's upload sessions (and their partial bytes) are kept: it is queued, running or
 * paused. Every other job (completed, failed, cancelled, gone) has its sessions discarded.
 */
export function keepsUploadSessions(job: Pick<BackupJob, 'status'> | null): boolean {
  return job !== null && (job.status === 'queued' || job.status === 'running' || job.status === 'paused');
}
