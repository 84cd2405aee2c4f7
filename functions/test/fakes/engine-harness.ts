/**
 * The engine wired to in-memory fakes, for tests of handlers and steps without a runtime. The
 * queue runs tasks on demand (`drain`), honouring dedup ids and the retry count, ignoring delays.
 */
import { API_HANDLERS, type ApiName } from '../../src/core/api';
import type { EngineDeps } from '../../src/core/deps';
import { onChunkUploaded } from '../../src/core/events/chunk-uploaded';
import { onJobCreated } from '../../src/core/events/job-created';
import { withJobCreatedTrigger } from '../../src/core/events/with-job-created-trigger';
import { hasRetriesLeft, DEFAULT_RETRY_POLICY } from '../../src/core/retry-policy';
import { taskDefinitions } from '../../src/core/task-definitions';
import type { BlobStore, CreateUploadSessionOptions, EnqueueOptions, JobStore, QueueDefinition, QueueName, TaskPayload, TaskQueue, UploadSessionRequest, UploadSessions } from '../../src/ports';
import { lifeboatError } from '../../src/core/errors';
import { QUEUE_NAMES, silentLogger, throwIfAborted } from '../../src/ports';
import { STRATEGIES } from '../../src/strategies';
import { sha256Hex } from '../../src/core/hash';
import { MemoryBlobStore } from './memory-blob-store';
import { MemoryJobStore } from './memory-job-store';

export interface QueuedTask {
  queue: QueueName;
  id: string;
  payload: TaskPayload;
  retryCount: number;
  delaySeconds: number;
}

export class MemoryTaskQueue implements TaskQueue {
  readonly pending: QueuedTask[] = [];
  readonly seen = new Set<string>();
  /** Every attempt run, in order: `queue:id#retryCount -> ok|error code`. */
  readonly log: string[] = [];
  private counter = 0;

  async enqueue(queue: QueueName, payload: TaskPayload, options: EnqueueOptions = {}): Promise<{ enqueued: boolean }> {
    // What the real queues refuse (the TaskQueue contract), so a fake-driven test cannot pass on input they would not take.
    if (!(QUEUE_NAMES as readonly string[]).includes(queue)) throw lifeboatError('invalid-argument', `unknown queue ${String(queue)}`);
    if (options.id === '') throw lifeboatError('invalid-argument', 'a task id must not be empty');
    const delay = options.delaySeconds ?? 0;
    if (!Number.isFinite(delay) || delay < 0) throw lifeboatError('invalid-argument', `delaySeconds must be 0 or more, got ${delay}`);
    throwIfAborted(options.signal);
    const id = options.id ?? `auto-${++this.counter}`;
    if (this.seen.has(`${queue}/${id}`)) return { enqueued: false };
    this.seen.add(`${queue}/${id}`);
    this.pending.push({ queue, id, payload: structuredClone(payload), retryCount: 0, delaySeconds: options.delaySeconds ?? 0 });
    return { enqueued: true };
  }

  /** Runs queued tasks (and those they enqueue) until none is left; returns attempts run. */
  async drain(definitions: QueueDefinition[], limit = 10_000): Promise<number> {
    let attempts = 0;
    while (this.pending.length > 0) {
      if (++attempts > limit) throw new Error('queue did not drain');
      const task = this.pending.shift() as QueuedTask;
      const def = definitions.find((d) => d.name === task.queue);
      if (!def) throw new Error(`no handler for ${task.queue}`);
      try {
        await def.handler(task.payload, { queue: task.queue, taskId: task.id, retryCount: task.retryCount });
        this.log.push(`${task.queue}:${task.id}#${task.retryCount} -> ok`);
      } catch (err) {
        this.log.push(`${task.queue}:${task.id}#${task.retryCount} -> ${(err as { code?: string }).code ?? 'error'}`);
        if (hasRetriesLeft(task.retryCount, def.retry)) this.pending.push({ ...task, retryCount: task.retryCount + 1 });
      }
    }
    return attempts;
  }
}

/**
 * Upload sessions that hand out `mem://` URLs; `upload()` plays the device and the finalize event.
 * Like the embedded store, a chunk's open session is reused, open sessions are counted against
 * `maxOpenPerUser`, and a completed or discarded session is no longer open.
 */
export class MemoryUploadSessions implements UploadSessions {
  readonly sessions = new Map<string, UploadSessionRequest>();
  /** URLs whose upload completed: no longer open, still answering a repeated upload. */
  readonly completed = new Set<string>();
  private counter = 0;
  async create(request: UploadSessionRequest, options: CreateUploadSessionOptions = {}) {
    const openOnes = [...this.sessions].filter(([url]) => !this.completed.has(url));
    for (const [url, open] of openOnes) {
      if (open.key === request.key && open.size === request.size && open.sha256 === request.sha256) return { url, expiresAt: Number.MAX_SAFE_INTEGER };
    }
    const open = openOnes.filter(([, s]) => s.uid === request.uid).length;
    if (options.maxOpenPerUser !== undefined && open >= options.maxOpenPerUser) {
      throw lifeboatError('resource-exhausted', `${open} upload sessions are open`, { retryable: false, details: { limit: 'openUploadSessions', max: options.maxOpenPerUser, open } });
    }
    const url = `mem://upload/${++this.counter}`;
    this.sessions.set(url, request);
    return { url, expiresAt: Number.MAX_SAFE_INTEGER };
  }
  async discardJob(uid: string, jobId: string) {
    let removed = 0;
    for (const [url, s] of this.sessions) {
      if (s.uid === uid && s.jobId === jobId && this.sessions.delete(url)) removed += 1;
    }
    return removed;
  }
  async discardUser(uid: string) {
    let removed = 0;
    for (const [url, s] of this.sessions) {
      if (s.uid === uid && this.sessions.delete(url)) removed += 1;
    }
    return removed;
  }
}

export interface Harness {
  deps: EngineDeps;
  store: JobStore;
  blobs: MemoryBlobStore;
  queue: MemoryTaskQueue;
  uploads: MemoryUploadSessions;
  clock: { now: () => number; advance: (ms: number) => void };
  definitions: QueueDefinition[];
  call<N extends ApiName>(name: N, uid: string | null, data: unknown): ReturnType<(typeof API_HANDLERS)[N]>;
  /** PUTs bytes to a session URL as a device would, then raises the upload event. */
  upload(url: string, bytes: Uint8Array): Promise<void>;
  drain(): Promise<number>;
}

export interface HarnessOverrides {
  blobs?: BlobStore;
  /** The store under the job-created trigger (e.g. FirestoreJobStore over the fake). @default a MemoryJobStore */
  store?: JobStore;
  uploadLimits?: EngineDeps['uploadLimits'];
  quotas?: EngineDeps['quotas'];
  keyRing?: EngineDeps['keyRing'];
}

export function createHarness(overrides: HarnessOverrides = {}): Harness {
  let now = 1_700_000_000_000;
  const clock = { now: () => now, advance: (ms: number) => { now += ms; } };
  const memoryBlobs = new MemoryBlobStore(clock);
  const blobs = overrides.blobs ?? memoryBlobs;
  const queue = new MemoryTaskQueue();
  const uploads = new MemoryUploadSessions();
  let ids = 0;
  let deps: EngineDeps;
  const store = withJobCreatedTrigger(overrides.store ?? new MemoryJobStore(), (job) => onJobCreated(deps, job));
  deps = {
    store,
    blobs,
    queue,
    uploads,
    notifier: { async notifyDevice() {} },
    clock,
    logger: silentLogger,
    strategies: STRATEGIES,
    newId: () => `job-${String(++ids).padStart(6, '0')}`,
    retryPolicy: DEFAULT_RETRY_POLICY,
    ...(overrides.uploadLimits ? { uploadLimits: overrides.uploadLimits } : {}),
    // Maintenance tasks (GC after each job) are tested on their own (fan-out.test.ts).
    maintenanceDelaySeconds: null,
    ...(overrides.quotas ? { quotas: overrides.quotas } : {}),
    ...(overrides.keyRing ? { keyRing: overrides.keyRing } : {}),
  };
  const definitions = taskDefinitions(deps);
  return {
    deps,
    store,
    blobs: memoryBlobs,
    queue,
    uploads,
    clock,
    definitions,
    call: ((name: ApiName, uid: string | null, data: unknown) =>
      API_HANDLERS[name]({ auth: uid ? { uid } : null, data }, deps)) as Harness['call'],
    async upload(url, bytes) {
      const session = uploads.sessions.get(url);
      if (!session) throw new Error(`no session ${url}`);
      if (sha256Hex(bytes) !== session.sha256) throw new Error('bytes do not match the session hash');
      await blobs.put(session.key, bytes, { ifAbsent: true, metadata: session.metadata });
      uploads.completed.add(url);
      const { uid, jobId, chunkId } = session.metadata as { uid: string; jobId: string; chunkId: string };
      await onChunkUploaded(deps, { uid, jobId, chunkId, key: session.key, size: bytes.byteLength });
    },
    drain: () => queue.drain(definitions),
  };
}

/** Contacts NDJSON chunk bytes for tests. */
export function contactsChunk(ids: string[]): Uint8Array {
  return new TextEncoder().encode(ids.map((id) => JSON.stringify({ id, name: { display: `Name ${id}` }, emails: [{ address: `${id}@EXAMPLE.com` }] })).join('\n') + '\n');
}

export function describeChunk(type: 'contacts' | 'deviceInfo', bytes: Uint8Array, items: number) {
  return { id: sha256Hex(bytes), type, size: bytes.byteLength, items };
}
