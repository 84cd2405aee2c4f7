/**
 * One `onTaskDispatched` function per engine queue (core/task-definitions.ts), configured by
 * config/task-queues.ts (names, timeouts, the retry config and why it is what it is).
 */
import { onTaskDispatched, type Request } from 'firebase-functions/v2/tasks';
import { maxRetries, taskDefinitions, type EngineDeps } from '../../core';
import { type QueueDefinition, type QueueName, type TaskPayload } from '../../ports';
import { FUNCTION_RESOURCES } from '../config/function-resources';
import { QUEUE_SCALE_PARAMS } from '../config/scale-params';
import { TASK_FUNCTION_NAMES, TASK_RETRY_CONFIG, TASK_TIMEOUT_SECONDS } from '../config/task-queues';
import { getDeps } from '../runtime/deps';

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
 * and the attempt's death check (or, failing that, the stale-job sweeper) fails the job later.
 */
export async function runTask(queue: QueueName, req: Pick<Request<TaskPayload>, 'data' | 'id' | 'retryCount'> & Partial<Pick<Request<TaskPayload>, 'executionCount'>>): Promise<void> {
  const deps = getDeps();
  const definition = definitionFor(deps, queue);
  const context = {
    queue,
    taskId: req.id,
    retryCount: req.retryCount,
    ...(typeof req.executionCount === 'number' ? { executionCount: req.executionCount } : {}),
  };
  try {
    await definition.handler(req.data ?? {}, context);
  } catch (err) {
    if (req.retryCount < maxRetries(definition.retry)) throw err;
    deps.logger.error(`${queue} task ${req.id} failed on its last attempt and could not record it; its death check will fail the job`, {
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
