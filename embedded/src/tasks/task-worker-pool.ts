/**
 * Task handlers off the server's event loop: a pool of worker threads, each running one attempt at
 * a time, so a step that spins (a hostile input, a parser gone quadratic) never blocks the HTTP
 * server, and the queue's dispatch deadline, a timer on the server thread, always fires. On the
 * deadline (or a stop) the queue aborts the attempt and the pool terminates its thread, which ends
 * the step whatever it does; a fresh thread takes the next attempt. A thread that runs out of
 * memory (its V8 heap limit) or crashes ends only its own attempt, and the pool says which, so the
 * queue records the cause (docs/invariants.md, "Retries").
 */
import { Worker } from 'node:worker_threads';
import { ERROR_CODES, LifeboatError, lifeboatError, type ErrorCode } from '@lifeboat/engine/core';
import type { LifecycleEvent, Logger, QueueName, TaskContext, TaskPayload } from '@lifeboat/engine/ports';
import { attemptLost } from '../adapters/sqlite-task-queue';
import { releaseTurnOf } from './thread-turn';
import type { RunMessage, StoppingMessage, WireError, WorkerMessage } from './worker-protocol';

export interface TaskWorkerPoolOptions {
  /** The worker entry module (absolute path). */
  script: string;
  /** Modules each worker requires before its entry, e.g. a TypeScript loader. @default none */
  preload?: readonly string[];
  /** Handed to the entry as `workerData.data`; read as each thread starts. */
  data: () => unknown;
  /** Worker threads at most, one attempt each. */
  size: number;
  /** Each thread's V8 heap limit (old generation), MiB; past it the thread dies, not the server. @default V8's */
  heapLimitMb?: number;
  /** Where the workers' log lines go. */
  logger: Logger;
  /** A worker enqueued a task to run now. @default none */
  onEnqueued?: () => void;
  /** A worker committed the state of a lifecycle event. @default none */
  onEvent?: (event: LifecycleEvent) => void;
  /** A turn the threads share (thread-turn.ts): a thread the pool ends gives it back. @default none */
  turn?: SharedArrayBuffer;
}

interface Run {
  runId: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Slot {
  worker: Worker;
  /** Taken by a run from the moment it is acquired (before its message is posted). */
  busy: boolean;
  run: Run | null;
  /** Terminated or exited: never given work again. */
  gone: boolean;
}

/**
 * What one idle task thread adds to the server's RSS, the engine loaded: measured 23 to 26 MiB
 * (two threads warmed: 123.5 MiB against 75 MiB without). Media steps plan against it.
 */
export const TASK_THREAD_BYTES = 25 * 1024 * 1024;

/** Each thread's young generation, MiB (see spawn). */
const YOUNG_GENERATION_MB = 8;

/** Requires the preloads, then the entry: the first code a worker thread runs. */
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
for (const module of workerData.preload) require(module);
require(workerData.script);
`;

function errorFromWire(error: WireError): Error {
  if (error.code && (ERROR_CODES as readonly string[]).includes(error.code)) {
    return new LifeboatError(error.code as ErrorCode, error.message, {
      ...(error.retryable !== null ? { retryable: error.retryable } : {}),
      ...(error.details ? { details: error.details } : {}),
    });
  }
  return new Error(error.message);
}

export class TaskWorkerPool {
  private readonly slots = new Set<Slot>();
  private readonly waiters: Array<() => void> = [];
  private nextRunId = 1;
  private closed = false;
  private warming = false;

  constructor(private readonly options: TaskWorkerPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) throw lifeboatError('invalid-argument', 'a task worker pool needs at least one worker');
  }

  /** Threads alive now (idle or busy). */
  get threads(): number {
    return [...this.slots].filter((s) => !s.gone).length;
  }

  /**
   * Starts idle threads up to the pool's size, so the first attempts do not wait for a thread to
   * load: one after the other (each once the previous is ready), since threads loading the engine
   * side by side add their compile-time peaks to the server's peak RSS.
   */
  warm(): void {
    this.warming = true;
    this.warmNext();
  }

  /**
   * Runs one attempt on a thread of its own. Resolves when the handler returns; rejects with the
   * handler's error, with {@link attemptLost} when the thread died under it, or when `signal`
   * aborts (the thread is terminated).
   */
  async run(queue: QueueName, payload: TaskPayload, context: TaskContext): Promise<void> {
    const slot = await this.acquire();
    return new Promise<void>((resolve, reject) => {
      const runId = this.nextRunId++;
      const signal = context.signal;
      const onAbort = () => {
        if (slot.run?.runId === runId) this.retire(slot, lifeboatError('aborted', `attempt stopped: its worker thread was terminated [queue=${queue}, task=${context.taskId}]`));
      };
      slot.run = {
        runId,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      const message: RunMessage = { type: 'run', runId, queue, payload, context: { taskId: context.taskId, retryCount: context.retryCount } };
      slot.worker.postMessage(message);
    });
  }

  /**
   * Tells every thread the server is stopping (a GC run then releases its lease and returns), and
   * resolves once no thread is busy or after `graceMs`, whichever comes first.
   */
  async stopping(graceMs: number): Promise<void> {
    const live = [...this.slots].filter((s) => !s.gone);
    for (const slot of live) slot.worker.postMessage({ type: 'stopping' } satisfies StoppingMessage);
    const until = Date.now() + graceMs;
    while (Date.now() < until && [...this.slots].some((s) => !s.gone && s.busy)) await new Promise((r) => setTimeout(r, 20));
  }

  /** Terminates every thread; attempts still running reject. */
  async close(): Promise<void> {
    this.closed = true;
    const slots = [...this.slots];
    for (const slot of slots) this.retire(slot, lifeboatError('aborted', 'the task workers were closed'));
    await Promise.allSettled(slots.map((s) => s.worker.terminate()));
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** An idle thread, a new one if the pool has room, else the next to free up. */
  private async acquire(): Promise<Slot> {
    for (;;) {
      if (this.closed) throw lifeboatError('unavailable', 'the task workers are closed');
      // Taken synchronously, so two runs acquiring at once never share a thread.
      const slot = [...this.slots].find((s) => !s.gone && !s.busy) ?? (this.threads < this.options.size ? this.spawn() : undefined);
      if (slot) {
        slot.busy = true;
        return slot;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private warmNext(): void {
    if (this.closed || this.threads >= this.options.size) {
      this.warming = false;
      return;
    }
    this.spawn();
  }

  private spawn(): Slot {
    const worker = new Worker(BOOTSTRAP, {
      eval: true,
      workerData: { preload: this.options.preload ?? [], script: this.options.script, data: this.options.data() },
      resourceLimits: {
        ...(this.options.heapLimitMb ? { maxOldGenerationSizeMb: this.options.heapLimitMb } : {}),
        // V8 sizes a thread's nursery like a process's (tens of MiB, grown under load); two
        // threads' nurseries cost about 45 MiB of peak RSS more than 8 MiB ones (bench server-rss).
        maxYoungGenerationSizeMb: YOUNG_GENERATION_MB,
      },
    });
    // The server's own handles keep the process alive; an idle thread must not.
    worker.unref();
    const slot: Slot = { worker, busy: false, run: null, gone: false };
    this.slots.add(slot);
    worker.on('message', (message: WorkerMessage) => this.receive(slot, message));
    worker.on('error', (err: Error & { code?: string }) => {
      const cause = err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'out-of-memory' : 'worker-exit';
      this.retire(slot, attemptLost(cause, cause === 'out-of-memory' ? `worker thread ran out of memory (heap limit ${this.options.heapLimitMb ?? 'default'} MiB)` : `worker thread crashed: ${err.message}`));
    });
    worker.on('exit', (code) => this.retire(slot, attemptLost('worker-exit', `worker thread exited with code ${code}`)));
    return slot;
  }

  private receive(slot: Slot, message: WorkerMessage): void {
    switch (message.type) {
      case 'ready':
        if (this.warming) this.warmNext();
        return;
      case 'enqueued':
        this.options.onEnqueued?.();
        return;
      case 'event':
        this.options.onEvent?.(message.event);
        return;
      case 'log':
        this.options.logger[message.level](message.message, message.fields);
        return;
      case 'done':
      case 'failed': {
        const run = slot.run;
        if (!run || run.runId !== message.runId) return;
        slot.run = null;
        slot.busy = false;
        if (message.type === 'done') run.resolve();
        else run.reject(errorFromWire(message.error));
        this.release();
        return;
      }
    }
  }

  /** Takes a thread out of the pool (terminating it if it still runs) and fails its attempt with `err`. */
  private retire(slot: Slot, err: unknown): void {
    if (slot.gone) return;
    slot.gone = true;
    this.slots.delete(slot);
    const run = slot.run;
    slot.run = null;
    slot.busy = false;
    const owner = slot.worker.threadId;
    void slot.worker.terminate().then(
      () => this.options.turn && releaseTurnOf(this.options.turn, owner),
      () => undefined,
    );
    run?.reject(err);
    this.release();
  }

  private release(): void {
    this.waiters.shift()?.();
  }
}
