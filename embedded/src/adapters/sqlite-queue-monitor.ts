/**
 * The QueueMonitor of the embedded runtime: counts over the SQLite task queue's table (the same
 * file, `task-queue/1`), so it needs nothing from the queue object and sees tasks of every worker
 * process sharing the file.
 */
import { QUEUE_NAMES, throwIfAborted, type CallOptions, type DroppedTask, type JobTask, type QueueMonitor, type QueueName, type QueueOverview, type QueueStatus } from '@lifeboat/engine/ports';
import { systemClock, type Clock } from '@lifeboat/engine/ports';
import type { Database } from './sqlite-database';

/** Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`. */
function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export class SqliteQueueMonitor implements QueueMonitor {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock = systemClock,
    /** Dropped tasks shown. @default 10 */
    private readonly droppedLimit = 10,
  ) {}

  async overview(options: CallOptions = {}): Promise<QueueOverview> {
    throwIfAborted(options.signal);
    const now = this.clock.now();
    const rows = this.db
      .prepare(
        `SELECT queue,
                COALESCE(SUM(state = 'pending'), 0) AS depth,
                COALESCE(SUM(state = 'leased'), 0) AS running,
                COALESCE(SUM(state = 'pending' AND retry_count > 0), 0) AS retrying,
                MIN(CASE WHEN state = 'pending' THEN run_at END) AS next_due
         FROM tasks GROUP BY queue`,
      )
      .all() as { queue: QueueName; depth: number; running: number; retrying: number; next_due: number | null }[];
    const byName = new Map(rows.map((r) => [r.queue, r]));
    const queues: QueueStatus[] = QUEUE_NAMES.map((name) => {
      const r = byName.get(name);
      return { name, depth: r?.depth ?? 0, running: r?.running ?? 0, retrying: r?.retrying ?? 0, nextDueAt: r?.next_due ?? null };
    });
    const dropped = (this.db
      .prepare("SELECT queue, id, retry_count, last_error, updated_at FROM tasks WHERE state = 'dropped' ORDER BY updated_at DESC LIMIT ?")
      .all(this.droppedLimit) as { queue: QueueName; id: string; retry_count: number; last_error: string | null; updated_at: number }[])
      .map((r): DroppedTask => ({ queue: r.queue, id: r.id, attempts: r.retry_count + 1, lastError: r.last_error, at: r.updated_at }));
    return { at: now, queues, dropped };
  }

  /** Task ids derive from the job (`{jobId}_kickoff_1`, `{jobId}_{chunk}_process_1`, ...). */
  async tasksOfJob(jobId: string, options: CallOptions = {}): Promise<JobTask[]> {
    throwIfAborted(options.signal);
    const rows = this.db
      .prepare(`SELECT queue, id, state, retry_count, last_error, created_at, updated_at FROM tasks WHERE id LIKE ? ESCAPE '\\' ORDER BY created_at, id LIMIT 500`)
      .all(likePrefix(`${jobId}_`)) as { queue: QueueName; id: string; state: string; retry_count: number; last_error: string | null; created_at: number; updated_at: number }[];
    return rows.map((r) => ({
      queue: r.queue,
      id: r.id,
      state: r.state,
      // A pending task that never ran has made no attempt; a leased, done or dropped one has made retry_count + 1.
      attempts: r.state === 'pending' ? r.retry_count : r.retry_count + 1,
      lastError: r.last_error,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }));
  }
}
