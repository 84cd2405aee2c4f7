/**
 * How the admin surface shows a job: its document with progress derived fresh while it is active,
 * and what needs an admin's attention in words, so a stalled upload reads as what it is rather
 * than `running`, and a failed job is never drawn as a full green bar.
 */
import { computeProgress, progressSums } from '../job-progress';
import type { BackupJob } from '../model';
import { isActive } from '../state-machine';
import type { AdminDeps } from './admin-deps';

/** An active job with no activity this long shows as idle. @default 5 minutes */
export const IDLE_AFTER_MS = 5 * 60_000;
/** An uploading job with no activity this long shows as an abandoned upload. @default 30 minutes */
export const ABANDONED_AFTER_MS = 30 * 60_000;
/** Active or failed jobs of one page whose progress is derived fresh (each costs a few aggregation reads). */
export const FRESH_PROGRESS_PER_PAGE = 20;

export const ATTENTION_KINDS = ['abandoned', 'idle', 'waiting-device', 'retrying', 'failed'] as const;

export interface JobAttention {
  kind: (typeof ATTENTION_KINDS)[number];
  /** What it means and what happens next, in a sentence. */
  message: string;
}

/** The bar the dashboard draws: how full, and in which colour class. */
export interface JobBar {
  percent: number;
  tone: 'done' | 'active' | 'failed' | 'cancelled' | 'paused' | 'stalled';
}

export interface JobView {
  job: BackupJob;
  /** When the job last showed a sign of life (its heartbeat, roll-up or any update). */
  lastActivityAt: number;
  attention: JobAttention | null;
  bar: JobBar;
}

function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours} h ${minutes % 60} min` : `${Math.floor(hours / 24)} days`;
}

export function attentionOf(job: BackupJob, now: number): JobAttention | null {
  const last = Math.max(job.updatedAt, job.heartbeatAt ?? 0, job.progressAt ?? 0);
  const idle = now - last;
  if (job.status === 'failed') {
    return { kind: 'failed', message: job.lastError ? `${job.lastError.step} failed: ${job.lastError.code}` : 'failed' };
  }
  if (job.status === 'paused' && job.pauseReason === 'waiting_for_device') {
    const wake = job.wakeUp;
    const how =
      !wake ? 'the device was not woken yet'
      : wake.outcome === 'sent' ? 'a wake-up was sent'
      : wake.outcome === 'no-token' ? 'the wake-up found no FCM token for the device (it never registered one, or withdrew it)'
      : wake.outcome === 'token-invalid' ? 'FCM no longer knows the device\'s token (removed); the device must register a new one'
      : `the wake-up failed${wake.message ? `: ${wake.message}` : ''}`;
    return { kind: 'waiting-device', message: `waiting for the device for ${duration(idle)}: ${how}` };
  }
  if (!isActive(job.status)) return null;
  if (job.lastError?.retrying) return { kind: 'retrying', message: `${job.lastError.step} is being retried after ${job.lastError.code}` };
  if ((job.phase === 'uploading' || job.phase === 'pending') && job.status !== 'paused' && idle >= ABANDONED_AFTER_MS) {
    return { kind: 'abandoned', message: `abandoned upload: nothing arrived for ${duration(idle)} (the app stopped sending); the stale-job sweeper fails it once it is idle for its limit` };
  }
  if (job.status !== 'paused' && idle >= IDLE_AFTER_MS) return { kind: 'idle', message: `no progress for ${duration(idle)}` };
  return null;
}

export function barOf(job: BackupJob, attention: JobAttention | null): JobBar {
  const p = job.progress;
  const done = p.totalItems > 0 ? p.processedItems / p.totalItems : p.totalChunks > 0 ? p.processedChunks / p.totalChunks : job.status === 'completed' ? 1 : 0;
  const percent = Math.max(0, Math.min(100, Math.round(done * 100)));
  if (job.status === 'completed') return { percent: 100, tone: 'done' };
  if (job.status === 'failed') return { percent, tone: 'failed' };
  if (job.status === 'cancelled') return { percent, tone: 'cancelled' };
  if (attention?.kind === 'abandoned' || attention?.kind === 'idle') return { percent, tone: 'stalled' };
  if (job.status === 'paused') return { percent, tone: 'paused' };
  return { percent, tone: 'active' };
}

/** A view of each job; the first FRESH_PROGRESS_PER_PAGE active or failed ones get their progress derived now. */
export async function jobViews(deps: Pick<AdminDeps, 'store' | 'clock'>, jobs: readonly BackupJob[]): Promise<JobView[]> {
  const now = deps.clock.now();
  let fresh = 0;
  return Promise.all(
    jobs.map(async (stored) => {
      let job = stored;
      // A failed job keeps its registration state (a retry resumes from it): its progress too.
      if ((isActive(job.status) || job.status === 'failed') && fresh++ < FRESH_PROGRESS_PER_PAGE) job = { ...job, progress: computeProgress(job, await progressSums(deps.store, job.id)) };
      const attention = attentionOf(job, now);
      return { job, lastActivityAt: Math.max(job.updatedAt, job.heartbeatAt ?? 0, job.progressAt ?? 0), attention, bar: barOf(job, attention) };
    }),
  );
}
