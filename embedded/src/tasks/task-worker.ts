/**
 * A task worker thread (task-worker-pool.ts starts it): its own SQLite connection, folder store
 * and engine deps over the server's data folder, the engine's queue handlers, and one attempt at a
 * time from the server thread. What its steps enqueue goes into the same SQLite queue, and the
 * server thread is told to look at once. Its log lines go to the server's logger.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isLifeboatError, messageOf, taskDefinitions, type EngineDeps } from '@lifeboat/engine/core';
import { systemClock, type EnqueueOptions, type Logger, type QueueDefinition, type QueueName, type TaskPayload, type TaskQueue } from '@lifeboat/engine/ports';
import { SqliteTaskQueue } from '../adapters/sqlite-task-queue';
import { openThreadEngine, type EngineSettings } from '../engine-deps';
import { withGcAfterFinalize, type GcAfterBackupOptions } from '../gc-after-backup';
import { withTurn } from './thread-turn';
import type { ServerMessage, WireError, WorkerMessage } from './worker-protocol';

/** What the server hands each worker (`workerData.data`): plain data. */
export interface TaskWorkerData {
  settings: EngineSettings;
  /** The server's base URL, as its upload sessions and download links name it. */
  baseUrl: string;
  /** Per-queue dispatch deadlines replacing the engine's. @default the engine's */
  dispatchDeadlineSeconds?: Partial<Record<QueueName, number>>;
  /** Plain options only: the thread adds its own stop signal and upload sweep. */
  gcAfterBackup: Pick<GcAfterBackupOptions, 'graceMs' | 'minIntervalMs' | 'leaseMs'> | false;
  /**
   * A module the worker loads once its deps are built: its `configureTaskWorker(deps)` may return
   * changed deps (extra or instrumented strategies). @default none
   */
  setup?: string;
  /** The process's media turn (thread-turn.ts): media chunks are processed one at a time per process. */
  mediaTurn: SharedArrayBuffer;
}

/** What a {@link TaskWorkerData.setup} module exports. */
export interface TaskWorkerSetup {
  configureTaskWorker?(deps: EngineDeps): EngineDeps | void;
}

function toWire(err: unknown): WireError {
  return {
    code: isLifeboatError(err) ? err.code : null,
    message: messageOf(err),
    retryable: isLifeboatError(err) ? err.retryable : null,
    details: isLifeboatError(err) && err.details ? structuredClone(err.details) : null,
  };
}

function main(): void {
  const port = parentPort;
  if (!port) throw new Error('task-worker runs in a worker thread started by TaskWorkerPool');
  const post = (message: WorkerMessage) => port.postMessage(message);
  const data = (workerData as { data: TaskWorkerData }).data;
  const log = (level: 'error' | 'warn' | 'info') => (message: string, fields?: Record<string, unknown>) => {
    try {
      post({ type: 'log', level, message, ...(fields ? { fields } : {}) });
    } catch {
      // Fields that do not clone (a function, a socket) go as text.
      post({ type: 'log', level, message, fields: { fields: String(fields) } });
    }
  };
  const logger: Logger = { error: log('error'), warn: log('warn'), info: log('info') };
  const engine = openThreadEngine(data.settings, {
    clock: systemClock,
    logger,
    events: {
      async publish(event) {
        post({ type: 'event', event });
      },
    },
    baseUrl: () => data.baseUrl,
    queue: (db): TaskQueue => {
      // Enqueue only: the server thread's queue claims and runs the tasks.
      const queue = new SqliteTaskQueue({ db, logger });
      return {
        async enqueue(name: QueueName, payload: TaskPayload, options?: EnqueueOptions) {
          const result = await queue.enqueue(name, payload, options);
          if (result.enqueued && !(options?.delaySeconds && options.delaySeconds > 0)) post({ type: 'enqueued' });
          return result;
        },
      };
    },
  });
  const media = engine.deps.strategies.media;
  let deps: EngineDeps = media
    ? { ...engine.deps, strategies: { ...engine.deps.strategies, media: { ...media, processChunk: (bytes, context) => withTurn(data.mediaTurn, () => media.processChunk(bytes, context)) } } }
    : engine.deps;
  if (data.setup) {
    const setup = require(data.setup) as TaskWorkerSetup;
    deps = setup.configureTaskWorker?.(deps) ?? deps;
  }
  // Aborted when the server stops, so a GC run in progress releases its lease first.
  const stopping = new AbortController();
  const gc = data.gcAfterBackup;
  const definitions = new Map<QueueName, QueueDefinition>(
    taskDefinitions(deps, data.dispatchDeadlineSeconds ? { dispatchDeadlineSeconds: data.dispatchDeadlineSeconds } : {}).map((d) => [
      d.name,
      gc === false ? d : withGcAfterFinalize(d, deps, { ...gc, signal: stopping.signal, uploads: engine.uploads }),
    ]),
  );
  port.on('message', (message: ServerMessage) => {
    if (message.type === 'stopping') {
      stopping.abort();
      return;
    }
    const definition = definitions.get(message.queue);
    void (async () => {
      try {
        if (!definition) throw new Error(`no handler for queue ${message.queue}`);
        await definition.handler(message.payload, { queue: message.queue, ...message.context });
        post({ type: 'done', runId: message.runId });
      } catch (err) {
        post({ type: 'failed', runId: message.runId, error: toWire(err) });
      }
    })();
  });
  post({ type: 'ready' });
}

main();
