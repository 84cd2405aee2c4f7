/**
 * One `onTaskDispatched` function per engine queue (core/task-definitions.ts).
 *
 * Retries. The engine's ladder is 30 s, 1 m, 2 m, 5 m, 10 m (5 retries, 6 attempts). Cloud Tasks
 * cannot express it exactly: its backoff starts at `minBackoffSeconds`, doubles `maxDoublings`
 * times, then grows linearly by the last doubled step, capped at `maxBackoffSeconds`. The closest
 * configuration, min 30 s and 3 doublings, retries after 30 s, 60 s, 120 s, 240 s, 480 s (about
 * 15.5 min in all, against the ladder's 18.5 min); 2 doublings would give 30, 60, 120, 240, 360.
 * The attempt count is exact, and that is what matters for correctness: `req.retryCount` is the
 * engine's retry count, and on the last attempt `runStep` fails the job with `lastError` and
 * returns, because Cloud Tasks drops a task silently after its last attempt. Cloud Tasks adds no
 * jitter; the ±10 % of the policy applies only to the embedded queue.
 */
import { onTaskDispatched, type Request } from 'firebase-functions/v2/tasks';
import { DEFAULT_RETRY_POLICY, maxAttempts, maxRetries, taskDefinitions, type EngineDeps } from '../core';
import { type QueueDefinition, type QueueName, type TaskPayload } from '../ports';
import { getDeps } from './deps';
import { FUNCTION_RESOURCES } from './function-resources';
import { QUEUE_SCALE_PARAMS } from './scale-params';

/** The exported function behind each queue; the Cloud Tasks adapter enqueues to these names. */
export const TASK_FUNCTION_NAMES = Object.freeze({
  kickoff: 'kickoffTask',
  processChunk: 'processChunkTask',
  finalize: 'finalizeTask',
  sourcePage: 'sourcePageTask',
  dispatch: 'dispatchTask',
  maintenance: 'maintenanceTask',
  rewrapKeys: 'rewrapKeysTask',
} as const satisfies Record<QueueName, string>);

/**
 * Each queue's function timeout, from FUNCTION_RESOURCES: the dispatch deadline of its definition
 * in core/task-definitions.ts (a test holds the two equal).
 */
export const TASK_TIMEOUT_SECONDS: Readonly<Record<QueueName, number>> = Object.freeze({
  kickoff: FUNCTION_RESOURCES[TASK_FUNCTION_NAMES.kickoff].timeoutSeconds,
  processChunk: FUNCTION_RESOURCES[TASK_FUNCTION_NAMES.processChunk].timeoutSeconds,
  finalize: FUNCTION_RESOURCES[TASK_FUNCTION_NAMES.finalize].timeoutSeconds,
  sourcePage: FUNCTION_RESOURCES[TASK_FUNCTION_NAMES.sourcePage].timeoutSeconds,
  dispatch: FUNCTION_RESOURCES[TASK_FUNCTION_NAMES.dispatch].timeoutSeconds,
  maintenance: FUNCTION_RESOURCES[TASK_FUNCTION_NAMES.maintenance].timeoutSeconds,
  rewrapKeys: FUNCTION_RESOURCES[TASK_FUNCTION_NAMES.rewrapKeys].timeoutSeconds,
});

/** See the module comment for the retry sequence this gives. */
export const TASK_RETRY_CONFIG = Object.freeze({
  maxAttempts: maxAttempts(DEFAULT_RETRY_POLICY),
  minBackoffSeconds: 30,
  maxDoublings: 3,
  maxBackoffSeconds: 600,
});

const definitionsByDeps = new WeakMap<EngineDeps, Map<QueueName, QueueDefinition>>();

function definitionFor(deps: EngineDeps, queue: QueueName): QueueDefinition {
  let byName = definitionsByDeps.get(deps);
  if (!byName) {
    byName = new Map(taskDefinitions(deps).map((d) => [d.name, d]));
    definitionsByDeps.set(deps, byName);
  }
  const definition = byName.get(queue);
  if (!definition) throw new Error(`core/task-definitions.ts defines no queue ${queue}`);
  return definition;
}

/**
 * The handler of one queue. A throw is a transient failure with retries left (Cloud Tasks retries
 * it); on the last attempt the engine records the failure and returns. If even that fails (the
 * store is down), the error is logged and the task is let go: throwing could not bring it back,
 * and the stale-job sweeper fails the job later.
 */
export async function runTask(queue: QueueName, req: Pick<Request<TaskPayload>, 'data' | 'id' | 'retryCount'>): Promise<void> {
  const deps = getDeps();
  const definition = definitionFor(deps, queue);
  const context = { queue, taskId: req.id, retryCount: req.retryCount };
  try {
    await definition.handler(req.data ?? {}, context);
  } catch (err) {
    if (req.retryCount < maxRetries(definition.retry)) throw err;
    deps.logger.error(`${queue} task ${req.id} failed on its last attempt and could not record it; the stale-job sweeper will fail the job`, {
      queue,
      taskId: req.id,
      retryCount: req.retryCount,
      error: err instanceof Error ? err.message : String(err),
    });
  }
}

export function taskFunction(queue: QueueName) {
  return onTaskDispatched<TaskPayload>(
    {
      retryConfig: TASK_RETRY_CONFIG,
      // Cloud Tasks dispatches no more at once than the function has instances: an instance takes
      // one request (global `concurrency: 1`), and a 429 from a full function would cost an attempt.
      rateLimits: { maxConcurrentDispatches: QUEUE_SCALE_PARAMS[queue].maxInstances, maxDispatchesPerSecond: QUEUE_SCALE_PARAMS[queue].maxDispatchesPerSecond },
      maxInstances: QUEUE_SCALE_PARAMS[queue].maxInstances,
      timeoutSeconds: TASK_TIMEOUT_SECONDS[queue],
      memory: FUNCTION_RESOURCES[TASK_FUNCTION_NAMES[queue]].memory,
    },
    (req) => runTask(queue, req),
  );
}
