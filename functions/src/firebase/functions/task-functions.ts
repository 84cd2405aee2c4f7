/**
 * One `onTaskDispatched` function per engine queue (core/task-definitions.ts), configured by
 * config/task-queues.ts (names, timeouts, the retry config and why it is what it is).
 */
import { onTaskDispatched, type Request } from 'firebase-functions/v2/tasks';
import { maxRetries, taskDefinitions, type EngineDeps } from '../../core';
import { type QueueDefinition, type QueueName, type TaskPayload } from '../../ports';
import { deployedTaskTimeouts, resourceOptions } from '../config/resource-params';
import { QUEUE_SCALE_PARAMS } from '../config/scale-params';
import { TASK_FUNCTION_NAMES, TASK_RETRY_CONFIG } from '../config/task-queues';
import { getDeps } from '../runtime/firebase-runtime';

const definitionsByDeps = new WeakMap<EngineDeps, Map<QueueName, QueueDefinition>>();

/**
 * The engine's definition of a queue, with the deadlines this deployment gives the task functions
 * (their timeout params), read at run time: the death check waits for the deployed deadline and
 * rounds of work stop a margin before it, whatever the defaults say.
 */
function definitionFor(deps: EngineDeps, queue: QueueName): QueueDefinition {
  let byName = definitionsByDeps.get(deps);
  if (!byName) {
    byName = new Map(taskDefinitions(deps, { dispatchDeadlineSeconds: deployedTaskTimeouts() }).map((d) => [d.name, d]));
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
      // at least one request (its concurrency param, 1 by default), and a 429 from a full function
      // would cost an attempt.
      rateLimits: { maxConcurrentDispatches: QUEUE_SCALE_PARAMS[queue].maxInstances, maxDispatchesPerSecond: QUEUE_SCALE_PARAMS[queue].maxDispatchesPerSecond },
      maxInstances: QUEUE_SCALE_PARAMS[queue].maxInstances,
      // Memory, timeout (the dispatch deadline: Cloud Tasks' and the engine's) and concurrency.
      ...resourceOptions(TASK_FUNCTION_NAMES[queue]),
    },
    (req) => runTask(queue, req),
  );
}
