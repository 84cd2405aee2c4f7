/**
 * Shows a backup's progress as `waiting` while the SDK waits because the server asked it to
 * (`Retry-After` / `details.retryAfterMs`: garbage collection of the user's blobs, a full disk),
 * and as it was once the SDK asks again. One watch per backup run, fed every wait of the client
 * and keeping those of its own job.
 */
import type { ServerWait } from './retry';

/** The part of a backup's progress a watch changes. */
export interface WaitingProgress {
  jobId: string | null;
  phase: 'preparing' | 'uploading' | 'waiting' | 'committed';
  /** Present while the SDK waits for the server: why, and when it asks again (epoch ms). */
  serverWait?: { reason: string; retryAt: number; call: string };
}

export class ServerWaitWatch<P extends WaitingProgress> {
  private run: { progress: P; emit: (progress: P) => void } | null = null;
  private waiting = 0;
  private phaseBefore: P['phase'] | null = null;

  /** Starts reporting into `progress` (the run's own object) through `emit`. */
  attach(progress: P, emit: (progress: P) => void): void {
    this.run = { progress, emit };
  }

  /** Feeds one wait of the client; waits of other jobs (or before this run has a job) are ignored. */
  readonly listener = (wait: ServerWait): void => {
    const run = this.run;
    if (!run || run.progress.jobId === null || wait.jobId !== run.progress.jobId) return;
    const { progress } = run;
    if (wait.state === 'waiting') {
      if (this.waiting === 0) this.phaseBefore = progress.phase;
      this.waiting += 1;
      progress.phase = 'waiting';
      progress.serverWait = { reason: wait.reason, retryAt: wait.retryAt, call: wait.call };
    } else {
      this.waiting = Math.max(0, this.waiting - 1);
      if (this.waiting > 0) return;
      if (this.phaseBefore !== null && progress.phase === 'waiting') progress.phase = this.phaseBefore;
      this.phaseBefore = null;
      delete progress.serverWait;
    }
    run.emit({ ...progress });
  };
}
