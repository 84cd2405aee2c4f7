import type { QueueDefinition, TaskContext, TaskPayload } from '../ports';
import type { EngineDeps } from './deps';
import { isLifeboatError } from './errors';
import { RewrapPagePayload, rewrapPage } from './encryption/rewrap-fanout';
import { DEFAULT_RETRY_POLICY } from './retry-policy';
import { finalize } from './steps/finalize';
import { kickoff } from './steps/kickoff';
import { ChunkTaskPayload, JobTaskPayload, parsePayload, SourcePageTaskPayload } from './steps/payloads';
import { processChunkFairly } from './steps/fair-process-chunk';
import { sourcePage } from './steps/source-page';
import { runStep } from './steps/run-step';
import { DispatchTaskPayload, runDispatchTask } from './schedules/dispatch-pages';
import { MaintenanceTaskPayload, runMaintenanceTask } from './maintenance';

/**
 * The engine's queues with their handlers and retry policy. Both runtimes wire exactly these:
 * `onTaskDispatched` functions on Firebase, the SQLite queue embedded.
 */
export function taskDefinitions(deps: EngineDeps): QueueDefinition[] {
  const retry = deps.retryPolicy ?? DEFAULT_RETRY_POLICY;
  const guarded = <T extends { jobId: string; chunkId?: string }>(
    name: QueueDefinition['name'],
    schema: Parameters<typeof parsePayload<T>>[0],
    body: (payload: T, context: TaskContext) => Promise<void>,
  ) =>
    async (payload: TaskPayload, context: TaskContext): Promise<void> => {
      let parsed: T;
      try {
        parsed = parsePayload(schema, payload, name);
      } catch (err) {
        // No job to record it on, and a retry cannot fix it: log and let the task go.
        deps.logger.error(isLifeboatError(err) ? err.message : String(err), { queue: name });
        return;
      }
      await runStep(deps, name, context, parsed, () => body(parsed, context));
    };
  return [
    {
      name: 'kickoff',
      retry,
      dispatchDeadlineSeconds: 60,
      handler: guarded('kickoff', JobTaskPayload, (p, ctx) => kickoff(deps, p.jobId, ctx)),
    },
    {
      name: 'processChunk',
      retry,
      dispatchDeadlineSeconds: 540,
      handler: guarded('processChunk', ChunkTaskPayload, (p, ctx) => processChunkFairly(deps, { jobId: p.jobId, chunkId: p.chunkId, ...(p.deferrals !== undefined ? { deferrals: p.deferrals } : {}) }, ctx)),
    },
    {
      name: 'finalize',
      retry,
      dispatchDeadlineSeconds: 540,
      handler: guarded('finalize', JobTaskPayload, (p) => finalize(deps, p.jobId)),
    },
    {
      // Not a job's step: a failure throws and the queue retries the page (re-wrapping is idempotent).
      name: 'rewrapKeys',
      retry,
      dispatchDeadlineSeconds: 540,
      handler: async (payload, ctx) => {
        let page: RewrapPagePayload;
        try {
          page = parsePayload(RewrapPagePayload, payload, 'rewrapKeys');
        } catch (err) {
          deps.logger.error(isLifeboatError(err) ? err.message : String(err), { queue: 'rewrapKeys' });
          return;
        }
        const result = await rewrapPage(deps, page, ctx.signal ? { signal: ctx.signal } : {});
        deps.logger.info('data keys re-wrapped', { ...result });
      },
    },
    {
      name: 'sourcePage',
      retry,
      dispatchDeadlineSeconds: 300,
      handler: guarded('sourcePage', SourcePageTaskPayload, (p, ctx) => sourcePage(deps, p.jobId, p.source, p.page, ctx)),
    },
    ...upkeepDefinitions(deps),
  ];
}

/**
 * Queues of work that belongs to no job (schedules, per-user upkeep): a payload that does not
 * parse is logged and let go; any other error throws, so the queue retries it.
 */
function upkeepDefinitions(deps: EngineDeps): QueueDefinition[] {
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
      dispatchDeadlineSeconds: 300,
      handler: async (payload) => {
        const p = parsed('dispatch', DispatchTaskPayload, payload);
        if (p) await runDispatchTask(deps, p);
      },
    },
    {
      name: 'maintenance',
      retry,
      dispatchDeadlineSeconds: 540,
      handler: async (payload, context) => {
        const p = parsed('maintenance', MaintenanceTaskPayload, payload);
        if (p) await runMaintenanceTask(deps, p, context.signal ? { signal: context.signal } : {});
      },
    },
  ];
}
