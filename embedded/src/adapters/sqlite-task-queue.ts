/**
 * A durable task queue on SQLite with Cloud Tasks semantics, so the embedded runtime behaves like
 * the Firebase one:
 * - a task runs no earlier than its delay;
 * - an explicit id is a dedup key for `dedupWindowMs` (Cloud Tasks: about an hour);
 * - a handler that throws is retried on its queue's RetryPolicy ladder; after the last attempt
 *   the task is dropped (kept as `dropped` for inspection);
 * - a running task holds a lease of its queue's dispatch deadline; if its worker dies (the lease
 *   runs out) any worker on the same database claims it again, which counts as an attempt;
 * - at most `concurrency` tasks run at once in this process.
 * Claims happen in `BEGIN IMMEDIATE` transactions, so workers in several processes sharing the
 * file never run the same attempt twice. No SQL transaction is held across an `await`.
 *
 * Beyond Cloud Tasks, because this queue can tell (docs/invariants.md, "Retries"):
 * - an attempt that ends without its handler's outcome (its deadline passed, its worker thread
 *   ran out of memory or exited, its lease ran out, or its last attempt threw) is reported to
 *   `onAttemptLost`, so the engine records the cause on the job and fails it after the last one;
 * - a started queue registers its process in `task_workers`; a queue that starts on the same
 *   database takes back at once the tasks leased by a registered process that no longer exists
 *   (a crash, a SIGKILL), and a stop hands its running tasks back: neither counts as an attempt,
 *   up to {@link MAX_INTERRUPTIONS} times per task, so a task that keeps killing its process
 *   still ends.
 */
import { randomUUID } from 'node:crypto';
import { delayFor, hasRetriesLeft, isLifeboatError, lifeboatError, messageOf, type LossCause, type TaskLostEvent } from '@lifeboat/engine/core';
import {
  QUEUE_NAMES,
  systemClock,
  type Clock,
  type EnqueueOptions,
  type Logger,
  type QueueDefinition,
  type QueueName,
  type TaskPayload,
  type TaskQueue,
} from '@lifeboat/engine/ports';
import { currentProcess, isGone, type ProcessIdentity } from './process-identity';
import { migrate, type Database } from './sqlite-database';

/**
 * Times a task may be taken back from a dead or stopping process without counting an attempt;
 * the next time counts, so a task that kills its process (a native crash) cannot loop forever.
 */
export const MAX_INTERRUPTIONS = 3;

/**
 * An attempt that ended without its handler's outcome because its worker died: what a handler
 * runner (the worker-thread pool) rejects with, so the queue reports the cause.
 */
export function attemptLost(cause: LossCause, message: string): Error {
  return lifeboatError('internal', message, { details: { attemptLost: cause } });
}

function lostCauseOf(err: unknown): LossCause | null {
  const cause = isLifeboatError(err) ? err.details?.['attemptLost'] : undefined;
  return typeof cause === 'string' ? (cause as LossCause) : null;
}

/** Why {@link SqliteTaskQueue.stop} aborts a running attempt: the attempt is handed back, not failed. */
const STOPPING = Symbol('stopping');

export const TASK_STATES = ['pending', 'leased', 'done', 'dropped'] as const;

/** See {@link SqliteTaskQueue.overview}. */
export interface QueueOverview {
  due: number;
  waiting: number;
  /** Pending tasks that failed before and wait for another attempt. */
  retrying: number;
  running: number;
  done: number;
  dropped: Array<{ queue: QueueName; id: string; attempts: number; lastError: string | null; at: number }>;
}
export type TaskState = (typeof TASK_STATES)[number];

export interface SqliteTaskQueueOptions {
  db: Database;
  /** @default systemClock */
  clock?: Clock;
  /** Jitter source in [0, 1). @default Math.random */
  random?: () => number;
  /** Tasks running at once in this process. @default 4 */
  concurrency?: number;
  /** How often the loop looks for due tasks. @default 200 */
  pollIntervalMs?: number;
  /** How long an explicit task id keeps deduplicating. @default 3_600_000 (one hour, as Cloud Tasks) */
  dedupWindowMs?: number;
  /** How long dropped tasks are kept for inspection. @default 7 days */
  dropRetentionMs?: number;
  /** Names this worker's leases. @default a random UUID */
  workerId?: string;
  logger?: Pick<Logger, 'warn' | 'info'>;
  /**
   * Called when an attempt ends without its handler's outcome (see the module comment); the
   * runtime records it on the job (core `onTaskLost`). A report that throws is logged.
   * @default none
   */
  onAttemptLost?: (event: TaskLostEvent) => Promise<void>;
  /**
   * {@link SqliteTaskQueue.stop} aborts running attempts and hands their tasks back instead of
   * waiting for them: for handlers that stop when aborted (worker threads that are terminated).
   * @default false: stop waits for running attempts to settle
   */
  interruptOnStop?: boolean;
}

export interface TaskInfo {
  queue: string;
  id: string;
  state: TaskState;
  payload: TaskPayload;
  retryCount: number;
  runAt: number;
  leaseOwner: string | null;
  leaseUntil: number | null;
  lastError: string | null;
  createdAt: number;
  /** Times the task was handed back by a stopping or dead process without counting an attempt. */
  interruptions: number;
}

interface TaskRow {
  queue: string;
  id: string;
  payload: string;
  state: TaskState;
  run_at: number;
  retry_count: number;
  lease_owner: string | null;
  lease_until: number | null;
  last_error: string | null;
  created_at: number;
  interruptions: number;
}

interface WorkerRow {
  worker_id: string;
  host: string;
  pid: number;
  process_started_at: string | null;
}

interface Claim {
  queue: QueueName;
  id: string;
  payload: string;
  retryCount: number;
}

const SCHEMA = [
  `CREATE TABLE tasks (
     queue TEXT NOT NULL, id TEXT NOT NULL, payload TEXT NOT NULL, state TEXT NOT NULL,
     run_at INTEGER NOT NULL, retry_count INTEGER NOT NULL, lease_owner TEXT, lease_until INTEGER,
     last_error TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
     PRIMARY KEY (queue, id))`,
  'CREATE INDEX tasks_pending ON tasks (state, run_at)',
  'CREATE INDEX tasks_leased ON tasks (state, lease_until)',
];

/** Started queues and their processes, so a successor can tell whose leases are dead. */
const WORKERS_SCHEMA = [
  'ALTER TABLE tasks ADD COLUMN interruptions INTEGER NOT NULL DEFAULT 0',
  `CREATE TABLE task_workers (worker_id TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL,
     process_started_at TEXT, started_at INTEGER NOT NULL)`,
];

const TASK_ID = /^[A-Za-z0-9_-]{1,500}$/;

export class SqliteTaskQueue implements TaskQueue {
  private readonly db: Database;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly concurrency: number;
  private readonly pollIntervalMs: number;
  private readonly dedupWindowMs: number;
  private readonly dropRetentionMs: number;
  private readonly workerId: string;
  private readonly logger: Pick<Logger, 'warn' | 'info'> | undefined;
  private readonly onAttemptLost: ((event: TaskLostEvent) => Promise<void>) | undefined;
  private readonly interruptOnStop: boolean;
  private readonly definitions = new Map<QueueName, QueueDefinition>();
  private readonly running = new Set<Promise<void>>();
  private readonly controllers = new Set<AbortController>();
  private readonly reports = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private lastPurge = 0;

  constructor(options: SqliteTaskQueueOptions) {
    this.db = options.db;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.concurrency = options.concurrency ?? 4;
    this.pollIntervalMs = options.pollIntervalMs ?? 200;
    this.dedupWindowMs = options.dedupWindowMs ?? 3_600_000;
    this.dropRetentionMs = options.dropRetentionMs ?? 7 * 24 * 3_600_000;
    this.workerId = options.workerId ?? randomUUID();
    this.logger = options.logger;
    this.onAttemptLost = options.onAttemptLost;
    this.interruptOnStop = options.interruptOnStop ?? false;
    migrate(this.db, 'task-queue/1', SCHEMA);
    migrate(this.db, 'task-queue/2', WORKERS_SCHEMA);
  }

  async enqueue(queue: QueueName, payload: TaskPayload, options: EnqueueOptions = {}): Promise<{ enqueued: boolean }> {
    if (options.signal?.aborted) throw lifeboatError('cancelled', 'enqueue was cancelled');
    if (!(QUEUE_NAMES as readonly string[]).includes(queue)) throw lifeboatError('invalid-argument', `unknown queue ${String(queue)}`);
    const delay = options.delaySeconds ?? 0;
    if (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0) {
      throw lifeboatError('invalid-argument', `delaySeconds must be a finite number >= 0, got ${String(delay)}`);
    }
    if (options.id !== undefined && !TASK_ID.test(options.id)) {
      throw lifeboatError('invalid-argument', `task id must be 1-500 characters of A-Z a-z 0-9 _ -: ${options.id}`);
    }
    let json: string;
    try {
      json = JSON.stringify(payload);
    } catch (err) {
      throw lifeboatError('invalid-argument', `task payload is not JSON-serialisable: ${messageOf(err)}`);
    }
    const id = options.id ?? randomUUID();
    const now = this.clock.now();
    const enqueued = this.db
      .transaction(() => {
        const existing = this.db.prepare('SELECT state, created_at FROM tasks WHERE queue = ? AND id = ?').get(queue, id) as
          | { state: TaskState; created_at: number }
          | undefined;
        if (existing) {
          const finished = existing.state === 'done' || existing.state === 'dropped';
          if (!finished || existing.created_at + this.dedupWindowMs > now) return false;
          this.db.prepare('DELETE FROM tasks WHERE queue = ? AND id = ?').run(queue, id);
        }
        this.db
          .prepare(
            `INSERT INTO tasks (queue, id, payload, state, run_at, retry_count, created_at, updated_at)
             VALUES (?, ?, ?, 'pending', ?, 0, ?, ?)`,
          )
          .run(queue, id, json, now + Math.round(delay * 1000), now, now);
        return true;
      })
      .immediate();
    if (enqueued && delay === 0) this.wake();
    return { enqueued };
  }

  /** Sets the handler, retry policy and dispatch deadline of a queue. */
  register(definition: QueueDefinition): void {
    this.definitions.set(definition.name, definition);
    this.wake();
  }

  /**
   * Runs due tasks, claiming more as slots free up, until none is due and the attempts this call
   * started have settled; resolves with the number of attempts it started. Attempts started
   * elsewhere (the loop, another call, a hung handler) only take slots: this call does not wait
   * for them, and returns early if they hold every slot. For tests and tools: the polling loop
   * never waits on handlers.
   */
  async runDue(): Promise<number> {
    let attempts = 0;
    const mine = new Set<Promise<void>>();
    for (;;) {
      for (const run of this.fill()) {
        attempts += 1;
        mine.add(run);
        void run.finally(() => mine.delete(run));
      }
      if (mine.size === 0) return attempts;
      await Promise.race(mine);
    }
  }

  /**
   * Registers this process as a worker, takes back the tasks of registered workers whose process
   * is gone, and polls for due tasks until {@link stop}.
   */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.registerWorker(currentProcess());
    this.reclaimFromGoneWorkers();
    this.schedule(0);
  }

  /**
   * Stops polling; then either waits for running attempts to settle, or (`interruptOnStop`) aborts
   * them and hands their tasks back without counting an attempt. Unregisters this worker.
   */
  async stop(): Promise<void> {
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.interruptOnStop) for (const controller of this.controllers) controller.abort(STOPPING);
    await Promise.allSettled([...this.running]);
    await Promise.allSettled([...this.reports]);
    if (this.db.open) this.db.prepare('DELETE FROM task_workers WHERE worker_id = ?').run(this.workerId);
  }

  /**
   * Takes back the tasks leased by registered workers whose process is gone (see the module
   * comment); returns how many. {@link start} calls it; a supervisor may call it again.
   */
  reclaimFromGoneWorkers(): number {
    const workers = this.db.prepare('SELECT worker_id, host, pid, process_started_at FROM task_workers WHERE worker_id != ?').all(this.workerId) as WorkerRow[];
    let reclaimed = 0;
    for (const worker of workers) {
      if (!isGone({ host: worker.host, pid: worker.pid, startedAt: worker.process_started_at })) continue;
      const rows = this.db
        .transaction(() => {
          const leased = this.db.prepare("SELECT * FROM tasks WHERE state = 'leased' AND lease_owner = ?").all(worker.worker_id) as TaskRow[];
          for (const row of leased) this.handBack(row, `worker ${worker.worker_id} (pid ${worker.pid}) is gone`);
          this.db.prepare('DELETE FROM task_workers WHERE worker_id = ?').run(worker.worker_id);
          return leased;
        })
        .immediate();
      reclaimed += rows.length;
      if (rows.length > 0) this.logger?.info(`took back ${rows.length} task(s) of worker ${worker.worker_id} (pid ${worker.pid}), which is gone`);
    }
    if (reclaimed > 0) this.wake();
    return reclaimed;
  }

  /** Look for due tasks now rather than at the next poll (work was enqueued on another connection). */
  wake(): void {
    if (this.started) setImmediate(() => this.started && this.safeFill());
  }

  inspect(queue: QueueName, id: string): TaskInfo | null {
    const row = this.db.prepare('SELECT * FROM tasks WHERE queue = ? AND id = ?').get(queue, id) as TaskRow | undefined;
    return row ? toInfo(row) : null;
  }

  list(queue?: QueueName): TaskInfo[] {
    const rows = (queue
      ? this.db.prepare('SELECT * FROM tasks WHERE queue = ? ORDER BY created_at, id').all(queue)
      : this.db.prepare('SELECT * FROM tasks ORDER BY created_at, id').all()) as TaskRow[];
    return rows.map(toInfo);
  }

  counts(): Record<TaskState, number> {
    const out: Record<TaskState, number> = { pending: 0, leased: 0, done: 0, dropped: 0 };
    for (const row of this.db.prepare('SELECT state, COUNT(*) AS n FROM tasks GROUP BY state').all() as { state: TaskState; n: number }[]) {
      out[row.state] = row.n;
    }
    return out;
  }

  /**
   * What the dashboard shows of the queue: tasks due now, waiting for their time (first runs and
   * retries after a backoff), running, and the latest dropped ones with their errors.
   */
  overview(limit = 10): QueueOverview {
    const counts = this.db
      .prepare(
        `SELECT COALESCE(SUM(state = 'pending' AND run_at <= @now), 0) AS due,
                COALESCE(SUM(state = 'pending' AND run_at > @now), 0) AS waiting,
                COALESCE(SUM(state = 'pending' AND retry_count > 0), 0) AS retrying,
                COALESCE(SUM(state = 'leased'), 0) AS running,
                COALESCE(SUM(state = 'done'), 0) AS done
         FROM tasks`,
      )
      .get({ now: this.clock.now() }) as Omit<QueueOverview, 'dropped'>;
    return {
      ...counts,
      dropped: (this.db
        .prepare("SELECT queue, id, retry_count, last_error, updated_at FROM tasks WHERE state = 'dropped' ORDER BY updated_at DESC LIMIT ?")
        .all(limit) as { queue: QueueName; id: string; retry_count: number; last_error: string | null; updated_at: number }[])
        .map((r) => ({ queue: r.queue, id: r.id, attempts: r.retry_count + 1, lastError: r.last_error, at: r.updated_at })),
    };
  }

  /** Forgets finished tasks whose dedup window (or, for dropped ones, retention) has passed. */
  purge(): number {
    const now = this.clock.now();
    return this.db
      .prepare(
        `DELETE FROM tasks WHERE (state = 'done' AND created_at + ? <= ?) OR (state = 'dropped' AND updated_at + ? <= ?)`,
      )
      .run(this.dedupWindowMs, now, this.dropRetentionMs, now).changes;
  }

  private schedule(ms: number): void {
    if (!this.started) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      try {
        this.fill();
        if (this.clock.now() - this.lastPurge > 60_000) {
          this.lastPurge = this.clock.now();
          this.purge();
        }
      } catch (err) {
        this.logger?.warn(`task loop failed: ${messageOf(err)}`);
      }
      this.schedule(this.pollIntervalMs);
    }, ms);
    this.timer.unref();
  }

  private safeFill(): void {
    try {
      this.fill();
    } catch (err) {
      this.logger?.warn(`task loop failed: ${messageOf(err)}`);
    }
  }

  /** Claims due tasks up to the free slots and starts them; returns the attempts it started. */
  private fill(): Promise<void>[] {
    const started: Promise<void>[] = [];
    while (this.running.size < this.concurrency) {
      const claim = this.claim();
      if (!claim) break;
      const run: Promise<void> = this.execute(claim).finally(() => {
        this.running.delete(run);
        this.wake();
      });
      this.running.add(run);
      started.push(run);
    }
    return started;
  }

  /** Claims one due task for this worker, or returns null when none is due. */
  private claim(): Claim | null {
    // A late settle (a handler past its deadline after shutdown) can ask for more work once the
    // database is closed: there is nothing to claim then, and throwing would surface nowhere useful.
    if (!this.db.open) return null;
    const names = [...this.definitions.keys()];
    if (names.length === 0) return null;
    const placeholders = names.map(() => '?').join(', ');
    return this.db
      .transaction((): Claim | null => {
        for (;;) {
          const now = this.clock.now();
          const row = this.db
            .prepare(
              `SELECT * FROM tasks WHERE queue IN (${placeholders}) AND (
                 (state = 'pending' AND run_at <= ?) OR (state = 'leased' AND lease_until < ?))
               ORDER BY run_at, created_at LIMIT 1`,
            )
            .get(...names, now, now) as TaskRow | undefined;
          if (!row) return null;
          const definition = this.definitions.get(row.queue as QueueName) as QueueDefinition;
          let retryCount = row.retry_count;
          if (row.state === 'leased') {
            // The worker holding it died or overran its deadline: that attempt failed.
            const final = !hasRetriesLeft(retryCount, definition.retry);
            this.lost(row, definition, final, 'unknown');
            if (final) {
              this.drop(row, `lease expired after the last attempt (worker ${row.lease_owner ?? '?'} died or overran)`, now);
              continue;
            }
            retryCount += 1;
          }
          // Guarded on the row as read as well, so the claim stays exclusive even for a writer
          // that does not take the immediate lock (a tool, a hand-written worker).
          const claimed = this.db
            .prepare(
              `UPDATE tasks SET state = 'leased', lease_owner = ?, lease_until = ?, retry_count = ?, updated_at = ?
               WHERE queue = ? AND id = ? AND state = ? AND retry_count = ? AND lease_until IS ?`,
            )
            .run(
              this.workerId,
              now + definition.dispatchDeadlineSeconds * 1000,
              retryCount,
              now,
              row.queue,
              row.id,
              row.state,
              row.retry_count,
              row.lease_until,
            );
          if (claimed.changes === 0) continue;
          return { queue: row.queue as QueueName, id: row.id, payload: row.payload, retryCount };
        }
      })
      .immediate();
  }

  /** Reports a lost attempt to `onAttemptLost` once the current transaction is done; stop() waits for it. */
  private lost(row: Pick<TaskRow, 'queue' | 'id' | 'payload' | 'retry_count'>, definition: QueueDefinition, final: boolean, cause: LossCause, detail?: string): void {
    const report = this.onAttemptLost;
    if (!report) return;
    const event: TaskLostEvent = {
      queue: row.queue as QueueName,
      payload: JSON.parse(row.payload) as TaskPayload,
      taskId: row.id,
      retryCount: row.retry_count,
      final,
      cause,
      deadlineSeconds: definition.dispatchDeadlineSeconds,
      ...(detail !== undefined ? { detail } : {}),
    };
    const run: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => report(event))
      .catch((err: unknown) => this.logger?.warn(`could not record a lost attempt [queue=${row.queue}, task=${row.id}]: ${messageOf(err)}`))
      .finally(() => this.reports.delete(run));
    this.reports.add(run);
  }

  /**
   * Hands a leased task back without counting its attempt (its process stopped or is gone), or,
   * past {@link MAX_INTERRUPTIONS}, counts it as a failed attempt. Call inside a transaction.
   */
  private handBack(row: TaskRow, reason: string): void {
    const now = this.clock.now();
    const definition = this.definitions.get(row.queue as QueueName);
    if (row.interruptions < MAX_INTERRUPTIONS || !definition) {
      this.db
        .prepare(
          `UPDATE tasks SET state = 'pending', run_at = ?, lease_owner = NULL, lease_until = NULL, interruptions = interruptions + 1, updated_at = ?
           WHERE queue = ? AND id = ? AND state = 'leased' AND lease_owner = ?`,
        )
        .run(now, now, row.queue, row.id, row.lease_owner);
      return;
    }
    const final = !hasRetriesLeft(row.retry_count, definition.retry);
    this.lost(row, definition, final, 'worker-exit');
    const message = `${reason} during this task ${row.interruptions + 1} times`;
    if (final) {
      this.drop(row, message, now);
      return;
    }
    this.db
      .prepare(
        `UPDATE tasks SET state = 'pending', retry_count = ?, run_at = ?, lease_owner = NULL, lease_until = NULL, last_error = ?, updated_at = ?
         WHERE queue = ? AND id = ?`,
      )
      .run(row.retry_count + 1, now + delayFor(row.retry_count + 1, definition.retry, this.random), message, now, row.queue, row.id);
  }

  private registerWorker(process: ProcessIdentity): void {
    this.db
      .prepare('INSERT OR REPLACE INTO task_workers (worker_id, host, pid, process_started_at, started_at) VALUES (?, ?, ?, ?, ?)')
      .run(this.workerId, process.host, process.pid, process.startedAt, this.clock.now());
  }

  private drop(row: Pick<TaskRow, 'queue' | 'id'>, reason: string, now: number): void {
    this.db
      .prepare(`UPDATE tasks SET state = 'dropped', lease_owner = NULL, lease_until = NULL, last_error = ?, updated_at = ? WHERE queue = ? AND id = ?`)
      .run(reason, now, row.queue, row.id);
    this.logger?.warn(`task dropped after its last attempt [queue=${row.queue}, task=${row.id}]: ${reason}`);
  }

  private async execute(claim: Claim): Promise<void> {
    const definition = this.definitions.get(claim.queue) as QueueDefinition;
    const controller = new AbortController();
    this.controllers.add(controller);
    let deadline: NodeJS.Timeout | undefined;
    let overran = false;
    // Past its dispatch deadline an attempt has failed, as in Cloud Tasks, and frees its slot
    // even if the handler ignores the abort signal.
    const expired = new Promise<never>((_, reject) => {
      deadline = setTimeout(() => {
        overran = true;
        controller.abort();
        reject(lifeboatError('deadline-exceeded', `attempt exceeded its ${definition.dispatchDeadlineSeconds} s dispatch deadline`));
      }, definition.dispatchDeadlineSeconds * 1000);
      deadline.unref();
    });
    let error: unknown;
    let failed = false;
    try {
      const handled = Promise.resolve().then(() =>
        definition.handler(JSON.parse(claim.payload) as TaskPayload, {
          queue: claim.queue,
          taskId: claim.id,
          retryCount: claim.retryCount,
          signal: controller.signal,
        }),
      );
      // A handler that rejects after its deadline already lost the race; its rejection is moot.
      handled.catch(() => undefined);
      await Promise.race([handled, expired]);
    } catch (err) {
      failed = true;
      error = err;
    } finally {
      clearTimeout(deadline);
      this.controllers.delete(controller);
    }
    try {
      if (failed && controller.signal.reason === STOPPING) {
        // Aborted by stop(): this process stops, the task did not fail.
        this.db
          .transaction(() => {
            const row = this.db.prepare(`SELECT * FROM tasks WHERE queue = ? AND id = ? AND state = 'leased' AND lease_owner = ? AND retry_count = ?`).get(claim.queue, claim.id, this.workerId, claim.retryCount) as TaskRow | undefined;
            if (row) this.handBack(row, 'the server stopped');
          })
          .immediate();
        return;
      }
      const cause: LossCause | null = !failed ? null : overran ? 'deadline' : lostCauseOf(error);
      const final = !hasRetriesLeft(claim.retryCount, definition.retry);
      const row = { queue: claim.queue, id: claim.id, payload: claim.payload, retry_count: claim.retryCount };
      if (cause) {
        // Recorded before the retry is scheduled, so the next attempt finds it recorded.
        this.lost(row, definition, final, cause);
        await Promise.allSettled([...this.reports]);
      } else if (failed && final) {
        // The handler threw on its last attempt: it could not record its own failure.
        this.lost(row, definition, true, 'unrecorded', messageOf(error));
      }
      this.settle(claim, definition, failed, error);
    } catch (err) {
      // The database went away under a late handler (closed at shutdown): the lease will run out
      // and the task run again, which is what at-least-once promises.
      this.logger?.warn(`could not record the outcome of task [queue=${claim.queue}, task=${claim.id}]: ${messageOf(err)}`);
    }
  }

  /**
   * Records an attempt's outcome, but only while this attempt still holds the lease: if the lease
   * ran out and another worker (or this one) claimed the task again, the retry count moved on and
   * this late result must not overwrite that attempt's state.
   */
  private settle(claim: Claim, definition: QueueDefinition, failed: boolean, error: unknown): void {
    const now = this.clock.now();
    const held = [claim.queue, claim.id, this.workerId, claim.retryCount] as const;
    const stillHeld = `queue = ? AND id = ? AND state = 'leased' AND lease_owner = ? AND retry_count = ?`;
    if (!failed) {
      this.db
        .prepare(`UPDATE tasks SET state = 'done', lease_owner = NULL, lease_until = NULL, updated_at = ? WHERE ${stillHeld}`)
        .run(now, ...held);
      return;
    }
    const message = messageOf(error);
    if (!hasRetriesLeft(claim.retryCount, definition.retry)) {
      const dropped = this.db
        .prepare(
          `UPDATE tasks SET state = 'dropped', lease_owner = NULL, lease_until = NULL, last_error = ?, updated_at = ?
           WHERE ${stillHeld}`,
        )
        .run(message, now, ...held);
      if (dropped.changes > 0) {
        this.logger?.warn(`task dropped after its last attempt [queue=${claim.queue}, task=${claim.id}]: ${message}`);
      }
      return;
    }
    const runAt = now + delayFor(claim.retryCount + 1, definition.retry, this.random);
    this.db
      .prepare(
        `UPDATE tasks SET state = 'pending', retry_count = ?, run_at = ?, lease_owner = NULL, lease_until = NULL,
           last_error = ?, updated_at = ? WHERE ${stillHeld}`,
      )
      .run(claim.retryCount + 1, runAt, message, now, ...held);
  }
}

function toInfo(row: TaskRow): TaskInfo {
  return {
    queue: row.queue,
    id: row.id,
    state: row.state,
    payload: JSON.parse(row.payload) as TaskPayload,
    retryCount: row.retry_count,
    runAt: row.run_at,
    leaseOwner: row.lease_owner,
    leaseUntil: row.lease_until,
    lastError: row.last_error,
    createdAt: row.created_at,
    interruptions: row.interruptions,
  };
}
