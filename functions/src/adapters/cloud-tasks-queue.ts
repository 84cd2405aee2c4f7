/**
 * TaskQueue on Cloud Tasks, through firebase-admin's task queues: each engine queue is the queue
 * of one `onTaskDispatched` function.
 *
 * - Outside us-central1 a queue is named `locations/{region}/functions/{name}`; firebase-admin
 *   would otherwise look for it in us-central1.
 * - Dedup ids: Cloud Tasks takes only `[A-Za-z0-9_-]`, at most 500 characters. Engine ids are
 *   made of those already and pass unchanged; any other id keeps its safe characters and gets a
 *   hash of the whole id appended (`cloudTaskId`), so the mapping stays deterministic and two
 *   different ids never meet.
 * - `dispatchDeadlineSeconds` is always sent: without it the deadline is the service's default
 *   (10 minutes; 60 s in the tasks emulator) rather than what the function's work needs.
 */
import { createHash } from 'node:crypto';
import type { Functions, TaskOptions } from 'firebase-admin/functions';
import { lifeboatError } from '../core/errors';
import { QUEUE_NAMES, throwIfAborted, type EnqueueOptions, type QueueName, type TaskPayload, type TaskQueue } from '../ports';
import { toLifeboatError } from './adapter-errors';

/** Cloud Tasks' limits on a task's dispatch deadline, in seconds. */
export const DISPATCH_DEADLINE_RANGE = { min: 15, max: 1800 } as const;

/** Cloud Tasks' default deadline, sent explicitly when the options name none. */
export const DEFAULT_DISPATCH_DEADLINE_SECONDS = 600;

const SAFE_ID = /^[A-Za-z0-9_-]+$/;
const MAX_ID_LENGTH = 500;
const HASH_LENGTH = 16;
const REGION = /^[a-z]+(?:-[a-z]+)*\d+$/;
const DEFAULT_REGION = 'us-central1';

export interface CloudTasksQueueOptions {
  /** Region of the task functions, e.g. `europe-west1`. */
  region: string;
  /** The `onTaskDispatched` function that serves each queue (its exported name). */
  functionNames: Record<QueueName, string>;
  /**
   * Longest one attempt may run before Cloud Tasks counts it failed and retries, 15 to 1800 s:
   * one number for every queue, or per queue (use each QueueDefinition's
   * `dispatchDeadlineSeconds`), or a function of the queue, asked at each enqueue (a deployed
   * function's timeout is a param, readable only at run time). Keep it at least the function's
   * timeout. @default 600
   */
  dispatchDeadlineSeconds?: number | Partial<Record<QueueName, number>> | ((queue: QueueName) => number);
}

/**
 * The Cloud Tasks id for an engine dedup id: the id itself when Cloud Tasks accepts it, else its
 * safe characters (others become `-`, cut to fit) followed by `_` and a 16-hex SHA-256 of the id.
 *
 * @throws LifeboatError `invalid-argument` for an empty id.
 */
export function cloudTaskId(id: string): string {
  if (id.length === 0) throw lifeboatError('invalid-argument', 'a task id must not be empty');
  if (SAFE_ID.test(id) && id.length <= MAX_ID_LENGTH) return id;
  const hash = createHash('sha256').update(id, 'utf8').digest('hex').slice(0, HASH_LENGTH);
  const kept = id.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, MAX_ID_LENGTH - HASH_LENGTH - 1);
  return `${kept}_${hash}`;
}

/**
 * The name firebase-admin's `taskQueue()` needs for a function's queue: the plain function name
 * in us-central1, `locations/{region}/functions/{name}` elsewhere.
 *
 * @throws LifeboatError `invalid-argument` for a malformed region or function name.
 */
export function queueResourceName(region: string, functionName: string): string {
  if (!REGION.test(region)) throw lifeboatError('invalid-argument', `invalid region ${JSON.stringify(region)}`);
  if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(functionName)) {
    throw lifeboatError('invalid-argument', `invalid function name ${JSON.stringify(functionName)}`);
  }
  return region === DEFAULT_REGION ? functionName : `locations/${region}/functions/${functionName}`;
}

function deadlineFor(option: CloudTasksQueueOptions['dispatchDeadlineSeconds'], queue: QueueName): number {
  const value = (typeof option === 'number' ? option : typeof option === 'function' ? option(queue) : option?.[queue]) ?? DEFAULT_DISPATCH_DEADLINE_SECONDS;
  if (!Number.isInteger(value) || value < DISPATCH_DEADLINE_RANGE.min || value > DISPATCH_DEADLINE_RANGE.max) {
    throw lifeboatError(
      'invalid-argument',
      `dispatchDeadlineSeconds of ${queue} must be an integer from ${DISPATCH_DEADLINE_RANGE.min} to ${DISPATCH_DEADLINE_RANGE.max}`,
    );
  }
  return value;
}

function isTaskAlreadyExists(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'functions/task-already-exists';
}

/** {@link TaskQueue} on Cloud Tasks; see the module comment. */
export class CloudTasksQueue implements TaskQueue {
  private readonly queues: Record<QueueName, { name: string; deadline: number | null }>;

  /**
   * @param functions firebase-admin's Functions service (`getFunctions()`).
   * @param options see {@link CloudTasksQueueOptions}.
   * @throws LifeboatError `invalid-argument` for a bad region, function name or deadline (a
   *   deadline given as a function: at enqueue).
   */
  constructor(
    private readonly functions: Functions,
    private readonly options: CloudTasksQueueOptions,
  ) {
    const lazy = typeof options.dispatchDeadlineSeconds === 'function';
    const entries = QUEUE_NAMES.map((queue) => {
      const name = queueResourceName(options.region, options.functionNames[queue]);
      return [queue, { name, deadline: lazy ? null : deadlineFor(options.dispatchDeadlineSeconds, queue) }] as const;
    });
    this.queues = Object.fromEntries(entries) as Record<QueueName, { name: string; deadline: number | null }>;
  }

  async enqueue(queue: QueueName, payload: TaskPayload, options: EnqueueOptions = {}): Promise<{ enqueued: boolean }> {
    const target = this.queues[queue];
    if (!target) throw lifeboatError('invalid-argument', `unknown queue ${String(queue)}`);
    const delay = options.delaySeconds ?? 0;
    if (!Number.isFinite(delay) || delay < 0) throw lifeboatError('invalid-argument', `delaySeconds must be 0 or more, got ${delay}`);
    const taskOptions: TaskOptions = {
      dispatchDeadlineSeconds: target.deadline ?? deadlineFor(this.options.dispatchDeadlineSeconds, queue),
      ...(options.id === undefined ? {} : { id: cloudTaskId(options.id) }),
      ...(delay > 0 ? { scheduleDelaySeconds: Math.ceil(delay) } : {}),
    };
    throwIfAborted(options.signal);
    try {
      await this.functions.taskQueue(target.name).enqueue(payload, taskOptions);
      return { enqueued: true };
    } catch (err) {
      // A task with this id exists or ran within the hour: the same work (ids derive from it) is
      // already scheduled, which is what this call asked for.
      if (isTaskAlreadyExists(err)) return { enqueued: false };
      throw toLifeboatError(err, `enqueue ${queue}`);
    }
  }
}
