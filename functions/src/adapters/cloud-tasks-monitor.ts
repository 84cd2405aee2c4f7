/**
 * QueueMonitor on Cloud Tasks: each engine queue's statistics from the Cloud Tasks API
 * (`GET v2beta3/projects/P/locations/L/queues/Q?readMask=stats`: the GA v2 API has no stats),
 * one request per queue with the deployment's own credentials. Cloud Tasks keeps no history of
 * tasks, so there are no dropped tasks nor per-job tasks to show: a job's failures are on the job.
 *
 * The queue of a task function is named after the function (`processChunkTask`), in the
 * functions' region.
 */
import { lifeboatError } from '../core/errors';
import { QUEUE_NAMES, throwIfAborted, type CallOptions, type QueueMonitor, type QueueName, type QueueOverview, type QueueStatus } from '../ports';
import { toLifeboatError } from './adapter-errors';

export const CLOUD_TASKS_API = 'https://cloudtasks.googleapis.com/v2beta3';

export interface CloudTasksMonitorOptions {
  projectId: string;
  region: string;
  /** The task function behind each queue (TASK_FUNCTION_NAMES). */
  functionNames: Readonly<Record<QueueName, string>>;
  /** An OAuth access token for the Cloud Tasks API (the app's credential). */
  accessToken: () => Promise<string>;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** @default Date.now */
  now?: () => number;
}

/** What the API answers for a queue (numbers may come as strings: int64 in JSON). */
interface QueueResource {
  stats?: {
    tasksCount?: string | number;
    concurrentDispatchesCount?: string | number;
    oldestEstimatedArrivalTime?: string;
  };
}

export class CloudTasksMonitor implements QueueMonitor {
  constructor(private readonly options: CloudTasksMonitorOptions) {}

  async overview(options: CallOptions = {}): Promise<QueueOverview> {
    throwIfAborted(options.signal);
    const queues = await Promise.all(QUEUE_NAMES.map((name) => this.queue(name, options)));
    return { at: (this.options.now ?? Date.now)(), queues, dropped: [] };
  }

  private async queue(name: QueueName, options: CallOptions): Promise<QueueStatus> {
    const { projectId, region, functionNames } = this.options;
    const url = `${CLOUD_TASKS_API}/projects/${encodeURIComponent(projectId)}/locations/${encodeURIComponent(region)}/queues/${encodeURIComponent(functionNames[name])}?readMask=stats`;
    let body: QueueResource;
    try {
      const res = await (this.options.fetch ?? fetch)(url, { headers: { authorization: `Bearer ${await this.options.accessToken()}` }, ...(options.signal ? { signal: options.signal } : {}) });
      if (!res.ok) throw Object.assign(new Error(`Cloud Tasks answered ${res.status}: ${(await res.text()).slice(0, 300)}`), { code: res.status });
      body = (await res.json()) as QueueResource;
    } catch (err) {
      throw toLifeboatError(err, `read the statistics of queue ${functionNames[name]}`);
    }
    const count = (v: string | number | undefined): number => {
      const n = Number(v ?? 0);
      if (!Number.isFinite(n) || n < 0) throw lifeboatError('data-loss', `Cloud Tasks answered a count that is not one: ${String(v)}`);
      return n;
    };
    const total = count(body.stats?.tasksCount);
    const running = count(body.stats?.concurrentDispatchesCount);
    const oldest = body.stats?.oldestEstimatedArrivalTime ? Date.parse(body.stats.oldestEstimatedArrivalTime) : NaN;
    // tasksCount holds the dispatched tasks too.
    return { name, depth: Math.max(0, total - running), running, nextDueAt: Number.isFinite(oldest) ? oldest : null };
  }
}
