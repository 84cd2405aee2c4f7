import type { CallOptions } from './common';
import type { QueueName } from './task-queue';

/** One queue as its monitor sees it now. */
export interface QueueStatus {
  name: QueueName;
  /** Tasks waiting to run: due now, delayed, or waiting for a retry. */
  depth: number;
  /** Tasks dispatched and not answered yet. */
  running: number;
  /** Of `depth`, tasks that failed before and wait for another attempt, where the queue tells. */
  retrying?: number;
  /** When the earliest waiting task is due, where the queue tells. */
  nextDueAt?: number | null;
}

/** A task the queue gave up on after its last attempt (kept where the queue keeps them). */
export interface DroppedTask {
  queue: QueueName;
  id: string;
  attempts: number;
  lastError: string | null;
  at: number;
}

/** One task of a job, as the queue keeps it (the embedded queue keeps every task for a while). */
export interface JobTask {
  queue: QueueName;
  id: string;
  /** `pending`, `leased` (running), `done` or `dropped`. */
  state: string;
  /** Attempts made so far (a pending task not run yet: 0). */
  attempts: number;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface QueueOverview {
  at: number;
  queues: QueueStatus[];
  /** The newest dropped tasks; empty where the queue does not keep them (Cloud Tasks). */
  dropped: DroppedTask[];
}

/**
 * What the admin surface can see of the task queues: their depth now and, where the queue keeps
 * them, dropped tasks and a job's tasks. Embedded: the SQLite queue's table. Firebase: the Cloud
 * Tasks API's queue statistics (counts only: Cloud Tasks keeps no history of tasks).
 */
export interface QueueMonitor {
  overview(options?: CallOptions): Promise<QueueOverview>;
  /** The tasks of one job the queue still holds, oldest first; absent where the queue keeps no history. */
  tasksOfJob?(jobId: string, options?: CallOptions): Promise<JobTask[]>;
}
