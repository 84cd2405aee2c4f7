/**
 * The messages between the server thread and its task worker threads (task-worker-pool.ts,
 * task-worker.ts). Structured-clone safe: plain data only.
 */
import type { LifecycleEvent, QueueName, TaskPayload } from '@lifeboat/engine/ports';

/** Server -> worker: run one attempt. A worker runs one at a time. */
export interface RunMessage {
  type: 'run';
  runId: number;
  queue: QueueName;
  payload: TaskPayload;
  context: { taskId: string; retryCount: number };
}

/** Server -> worker: the server is stopping; end what stops quickly (a GC run releases its lease). */
export interface StoppingMessage {
  type: 'stopping';
}

export type ServerMessage = RunMessage | StoppingMessage;

/** An error as it crosses the thread boundary. */
export interface WireError {
  code: string | null;
  message: string;
  retryable: boolean | null;
  details: Record<string, unknown> | null;
}

/** Worker -> server. */
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'done'; runId: number }
  | { type: 'failed'; runId: number; error: WireError }
  | { type: 'log'; level: 'error' | 'warn' | 'info'; message: string; fields?: Record<string, unknown> }
  /** A task was enqueued to run now: the server's queue looks for it at once. */
  | { type: 'enqueued' }
  /** A lifecycle event whose state the thread committed: the server thread publishes it (log, host hook). */
  | { type: 'event'; event: LifecycleEvent };
