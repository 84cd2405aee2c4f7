/**
 * The dashboard's charts, computed from the newest jobs of the last two weeks (at most
 * MAX_CHART_JOBS, said so when cut) and the queue samples of the last day: jobs per hour by
 * outcome, bytes uploaded and stored per day, p50/p95 job duration per day, queue depth.
 */
import type { QueueSample } from '../../ports';
import type { BackupJob } from '../model';
import type { AdminDeps } from './admin-deps';

export const CHART_DAYS = 14;
export const CHART_HOURS = 48;
/** Jobs read for the charts at most (50 pages). */
export const MAX_CHART_JOBS = 5000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface HourOutcomes {
  at: number;
  completed: number;
  failed: number;
  cancelled: number;
  /** Queued, running or paused. */
  active: number;
}

export interface DayBytes {
  at: number;
  uploaded: number;
  stored: number;
}

export interface DayDurations {
  at: number;
  /** Completed jobs of the day (by when they finished). */
  count: number;
  p50: number | null;
  p95: number | null;
}

export interface AdminCharts {
  generatedAt: number;
  /** The jobs the charts were drawn from: created in [from, to), `truncated` when there were more. */
  window: { from: number; to: number; jobs: number; truncated: boolean };
  jobsPerHour: HourOutcomes[];
  bytesPerDay: DayBytes[];
  durationPerDay: DayDurations[];
  queueDepth: QueueSample[];
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? null;
}

export async function adminCharts(deps: AdminDeps): Promise<AdminCharts> {
  const now = deps.clock.now();
  const hourStart = Math.floor(now / HOUR) * HOUR;
  const dayStart = Math.floor(now / DAY) * DAY;
  const from = dayStart - (CHART_DAYS - 1) * DAY;
  const jobs: BackupJob[] = [];
  let cursor: string | undefined;
  let truncated = false;
  do {
    const page = await deps.admin.listJobs({ from, limit: 100, ...(cursor ? { cursor } : {}) });
    jobs.push(...page.items);
    cursor = page.nextCursor;
    if (jobs.length >= MAX_CHART_JOBS && cursor) {
      truncated = true;
      break;
    }
  } while (cursor);

  const hours: HourOutcomes[] = Array.from({ length: CHART_HOURS }, (_, i) => ({ at: hourStart - (CHART_HOURS - 1 - i) * HOUR, completed: 0, failed: 0, cancelled: 0, active: 0 }));
  const days: DayBytes[] = Array.from({ length: CHART_DAYS }, (_, i) => ({ at: from + i * DAY, uploaded: 0, stored: 0 }));
  const durations: number[][] = Array.from({ length: CHART_DAYS }, () => []);
  for (const job of jobs) {
    // A finished job counts in the hour it finished, an active one in the hour it was created.
    const at = job.finishedAt ?? job.createdAt;
    const hour = hours[Math.floor((at - hours[0]!.at) / HOUR)];
    if (hour) {
      if (job.status === 'completed' || job.status === 'failed' || job.status === 'cancelled') hour[job.status] += 1;
      else hour.active += 1;
    }
    const day = Math.floor((job.createdAt - from) / DAY);
    const bytes = days[day];
    if (bytes) {
      bytes.uploaded += job.progress.bytesUploaded;
      bytes.stored += job.progress.bytesStored;
    }
    if (job.status === 'completed' && job.finishedAt !== null) durations[Math.floor((job.finishedAt - from) / DAY)]?.push(job.finishedAt - job.createdAt);
  }
  const queueDepth = await deps.admin.listQueueSamples(now - DAY, 2000);
  return {
    generatedAt: now,
    window: { from, to: now, jobs: jobs.length, truncated },
    jobsPerHour: hours,
    bytesPerDay: days,
    durationPerDay: durations.map((d, i) => {
      const sorted = [...d].sort((a, b) => a - b);
      return { at: from + i * DAY, count: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95) };
    }),
    queueDepth,
  };
}
