import type { RetryPolicy } from '../core/retry-policy';
import type { CallOptions } from './common';

/**
 * The queues of the engine; each is one `onTaskDispatched` function on Firebase. `deathCheck`
 * runs after a step's last attempt could have ended, to record it if its worker died
 * (core/steps/death-check.ts); `rewrapKeys` re-wraps a page of users' data keys after a master
 * key rotation (core/encryption/rewrap-fanout.ts).
 */
export const QUEUE_NAMES = ['kickoff', 'processChunk', 'finalize', 'sourcePage', 'dispatch', 'maintenance', 'deathCheck', 'rewrapKeys'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/** JSON-safe task payload. */
export type TaskPayload = Record<string, unknown>;

export interface EnqueueOptions extends CallOptions {
  /**
   * Dedup id derived from the work (`jobId:chunkId:process`). A second enqueue with an id the
   * queue has seen resolves with `enqueued: false` and schedules nothing. Cloud Tasks remembers ids
   * for about an hour, so steps must stay idempotent even with an id.
   */
  id?: string;
  /** Earliest run, in seconds from now. @default 0 */
  delaySeconds?: number;
}

/**
 * Durable, at-least-once task queues with Cloud Tasks semantics: a task runs no earlier than its
 * delay, a handler that throws is retried per the queue's {@link RetryPolicy}, a handler whose
 * worker dies is run again, and after its last attempt a task is dropped. The handler gets the
 * payload's JSON copy, taken at enqueue.
 *
 * `enqueue` refuses with `invalid-argument`, scheduling nothing, a queue not in
 * {@link QUEUE_NAMES}, an empty id, and a delay that is negative or not finite; every id of 1 to
 * 500 characters of `[A-Za-z0-9_-]` (the alphabet of derived ids) is accepted. With an id, it is
 * create-if-absent per queue and id (see {@link EnqueueOptions.id}). An aborted `signal` rejects
 * with `cancelled` and schedules nothing. All of it is tested by
 * functions/test/conformance/task-queue-conformance.ts.
 */
export interface TaskQueue {
  enqueue(queue: QueueName, payload: TaskPayload, options?: EnqueueOptions): Promise<{ enqueued: boolean }>;
}

/** What a handler learns about its delivery. */
export interface TaskContext {
  queue: QueueName;
  taskId: string;
  /** Times this task was retried before this attempt: 0 on the first attempt. */
  retryCount: number;
  /**
   * Cloud Tasks' `X-CloudTasks-TaskExecutionCount` where the queue reports it: earlier attempts
   * that got an answer other than a 5xx. Diagnostic only (a thrown error answers 500, so a failure
   * and a dead worker both leave it behind `retryCount`); deaths are told by the step's attempt
   * record (core/steps/step-attempts.ts). @default unknown
   */
  executionCount?: number;
  signal?: AbortSignal;
}

/** Throwing retries the task (until the policy runs out); returning completes it. */
export type TaskHandler = (payload: TaskPayload, context: TaskContext) => Promise<void>;

/** A queue as the runtimes wire it: its handler and its retry policy. */
export interface QueueDefinition {
  name: QueueName;
  handler: TaskHandler;
  retry: RetryPolicy;
  /** Longest a single attempt may run before the queue treats the worker as dead. */
  dispatchDeadlineSeconds: number;
}
