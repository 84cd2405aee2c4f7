import type { QueueDefinition, QueueName, TaskContext, TaskPayload } from '../ports';
import type { EngineDeps } from './deps';
import { isLifeboatError } from './errors';
import { RewrapPagePayload, rewrapPage } from './encryption/rewrap-fanout';
import { DEFAULT_RETRY_POLICY } from './retry-policy';
import { deathCheck, DeathCheckPayload } from './steps/death-check';
import { finalize } from './steps/finalize';
import { kickoff } from './steps/kickoff';
import { ChunkTaskPayload, JobTaskPayload, parsePayload, SourcePageTaskPayload } from './steps/payloads';
import { processChunkFairly } from './steps/fair-process-chunk';
import { sourcePage } from './steps/source-page';
import { runStep } from './steps/run-step';
import type { RecordedStep, StepIds } from './steps/step-attempts';
import { DispatchTaskPayload, runDispatchTask } from './schedules/dispatch-pages';
import { MaintenanceTaskPayload, runMaintenanceTask } from './maintenance';

/**
 * Each queue's default dispatch deadline: the longest one attempt may run before the queue counts
 * it failed (Cloud Tasks' dispatch deadline; the embedded queue's lease). Firebase deploys each
 * task function with this timeout by default (its `LIFEBOAT_<QUEUE>_TIMEOUT_SECONDS` param) and
 * hands the deployed values to `taskDefinitions` (firebase/functions/task-functions.ts).
 */
export const DISPATCH_DEADLINE_SECONDS: Readonly<Record<QueueName, number>> = Object.freeze({
  kickoff: 60,
  processChunk: 540,
  finalize: 540,
  sourcePage: 300,
  dispatch: 300,
  maintenance: 540,
  deathCheck: 60,
  rewrapKeys: 540,
});

export interface TaskDefinitionOptions {
  /** Per-queue dispatch deadlines replacing {@link DISPATCH_DEADLINE_SECONDS}. @default none */
  dispatchDeadlineSeconds?: Partial<Record<QueueName, number>>;
}

/**
 * The engine's queues with their handlers and retry policy. Both runtimes wire exactly these:
 * `onTaskDispatched` functions on Firebase, the SQLite queue embedded.
 */
export function taskDefinitions(deps: EngineDeps, options: TaskDefinitionOptions = {}): QueueDefinition[] {
  const retry = deps.retryPolicy ?? DEFAULT_RETRY_POLICY;
  const deadline = (name: QueueName) => options.dispatchDeadlineSeconds?.[name] ?? DISPATCH_DEADLINE_SECONDS[name];
  const guarded = <T extends StepIds>(
    name: RecordedStep,
    schema: Parameters<typeof parsePayload<T>>[0],
    body: (payload: T, context: TaskContext) => Promise<void>,
  ): QueueDefinition => ({
    name,
    retry,
    dispatchDeadlineSeconds: deadline(name),
    handler: async (payload: TaskPayload, context: TaskContext): Promise<void> => {
      let parsed: T;
      try {
        parsed = parsePayload(schema, payload, name);
      } catch (err) {
        // No job to record it on, and a retry cannot fix it: log and let the task go.
        deps.logger.error(isLifeboatError(err) ? err.message : String(err), { queue: name });
        return;
      }
      await runStep(deps, name, context, parsed, () => body(parsed, context), deadline(name));
    },
  });
  return [
    guarded('kickoff', JobTaskPayload, (p, ctx) => kickoff(deps, p.jobId, ctx)),
    guarded('processChunk', ChunkTaskPayload, (p, ctx) => processChunkFairly(deps, { jobId: p.jobId, chunkId: p.chunkId, ...(p.deferrals !== undefined ? { deferrals: p.deferrals } : {}) }, ctx)),
    guarded('finalize', JobTaskPayload, (p) => finalize(deps, p.jobId)),
    guarded('sourcePage', SourcePageTaskPayload, (p, ctx) => sourcePage(deps, p.jobId, p.source, p.page, ctx)),
    {
      name: 'deathCheck',
      retry,
      dispatchDeadlineSeconds: deadline('deathCheck'),
      // Not a step: it records other steps' deaths, so it has no death check of its own. A store
      // error throws and the queue retries it.
      handler: async (payload: TaskPayload): Promise<void> => {
        let parsed: DeathCheckPayload;
        try {
          parsed = parsePayload(DeathCheckPayload, payload, 'deathCheck');
        } catch (err) {
          deps.logger.error(isLifeboatError(err) ? err.message : String(err), { queue: 'deathCheck' });
          return;
        }
        await deathCheck(deps, parsed);
      },
    },
    ...upkeepDefinitions(deps, deadline),
  ];
}

/**
 * Queues of work that belongs to no job (schedules, per-user upkeep): a payload that does not
 * parse is logged and let go; any other error throws, so the queue retries it. No job to record
 * a death on: a lost attempt is retried like a failed one, and the last is logged.
 */
function upkeepDefinitions(deps: EngineDeps, deadline: (name: QueueName) => number): QueueDefinition[] {
  const retry = deps.retryPolicy ?? DEFAULT_RETRY_POLICY;
  const parsed = <T>(name: QueueDefinition['name'], schema: Parameters<typeof parsePayload<T>>[0], payload: TaskPayload): T | null => {
    try {
      return parsePayload(schema, payload, name);
    } catch (err) {
      deps.logger.error(isLifeboatError(err) ? err.message : String(err), { queue: name });
      return null;
    }
  };
  return [
    {
      name: 'dispatch',
      retry,
      dispatchDeadlineSeconds: deadline('dispatch'),
      handler: async (payload) => {
        const p = parsed('dispatch', DispatchTaskPayload, payload);
        if (p) await runDispatchTask(deps, p);
      },
    },
    {
      name: 'maintenance',
      retry,
      dispatchDeadlineSeconds: deadline('maintenance'),
      handler: async (payload, context) => {
        const p = parsed('maintenance', MaintenanceTaskPayload, payload);
        // Rounds stop a margin before this queue's deadline, as deployed.
        if (p) await runMaintenanceTask(deps, p, { deadlineSeconds: deadline('maintenance'), ...(context.signal ? { signal: context.signal } : {}) });
      },
    },
    {
      // Not a job's step: a failure throws and the queue retries the page (re-wrapping is idempotent).
      name: 'rewrapKeys',
      retry,
      dispatchDeadlineSeconds: deadline('rewrapKeys'),
      handler: async (payload, context) => {
        const p = parsed('rewrapKeys', RewrapPagePayload, payload);
        if (!p) return;
        const result = await rewrapPage(deps, p, context.signal ? { signal: context.signal } : {});
        deps.logger.info('data keys re-wrapped', { ...result });
      },
    },
  ];
}
