/**
 * The task queues' configuration: which exported function serves each engine queue
 * (core/task-definitions.ts), its timeout, retries and dispatch rate. The function definitions
 * (functions/task-functions.ts) deploy with it and the production runtime's Cloud Tasks adapter
 * enqueues with it, so neither imports the other.
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
 *
 * Deaths. An instance that runs out of memory or time runs no more code: the next attempt notes
 * the death on the job, and a last attempt schedules a `deathCheck` task first, which fails the
 * job with the step, the chunk and the cause once the attempt's deadline has passed
 * (core/steps/step-attempts.ts, core/steps/death-check.ts).
 */
import { DEFAULT_RETRY_POLICY, maxAttempts } from '../../core';
import type { QueueName } from '../../ports';
import { FUNCTION_RESOURCES } from './function-resources';

/** The exported function behind each queue; the Cloud Tasks adapter enqueues to these names. */
export const TASK_FUNCTION_NAMES = Object.freeze({
  kickoff: 'kickoffTask',
  processChunk: 'processChunkTask',
  finalize: 'finalizeTask',
  sourcePage: 'sourcePageTask',
  dispatch: 'dispatchTask',
  maintenance: 'maintenanceTask',
  deathCheck: 'deathCheckTask',
  rewrapKeys: 'rewrapKeysTask',
} as const satisfies Record<QueueName, string>);

/**
 * Each queue's default function timeout, from FUNCTION_RESOURCES: the default dispatch deadline of
 * its definition in core/task-definitions.ts (a test holds the two equal). A deployment's own are
 * params, read at run time by `deployedTaskTimeouts` (resource-params.ts).
 */
export const TASK_TIMEOUT_SECONDS: Readonly<Record<QueueName, number>> = Object.freeze({
  kickoff: FUNCTION_RESOURCES[TASK_FUNCTION_NAMES.kickoff].timeoutSeconds,
  processChunk: FUNCTION_RESOURCES[TASK_FUNCTION_NAMES.processChunk].timeoutSeconds,
  finalize: FUNCTION_RESOURCES[TASK_FUNCTION_NAMES.finalize].timeoutSeconds,
  sourcePage: FUNCTION_RESOURCES[TASK_FUNCTION_NAMES.sourcePage].timeoutSeconds,
  dispatch: FUNCTION_RESOURCES[TASK_FUNCTION_NAMES.dispatch].timeoutSeconds,
  maintenance: FUNCTION_RESOURCES[TASK_FUNCTION_NAMES.maintenance].timeoutSeconds,
  deathCheck: FUNCTION_RESOURCES[TASK_FUNCTION_NAMES.deathCheck].timeoutSeconds,
  rewrapKeys: FUNCTION_RESOURCES[TASK_FUNCTION_NAMES.rewrapKeys].timeoutSeconds,
});

/** See the module comment for the retry sequence this gives. */
export const TASK_RETRY_CONFIG = Object.freeze({
  maxAttempts: maxAttempts(DEFAULT_RETRY_POLICY),
  minBackoffSeconds: 30,
  maxDoublings: 3,
  maxBackoffSeconds: 600,
});
