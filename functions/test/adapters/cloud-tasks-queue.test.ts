/**
 * CloudTasksQueue over a hand-written fake of firebase-admin's `Functions.taskQueue()`, which
 * records enqueues and, like Cloud Tasks, refuses a second task with an id it has seen
 * (`functions/task-already-exists`).
 */
import { CloudTasksQueue, cloudTaskId, queueResourceName } from '../../src/adapters';
import { finalizeTaskId, kickoffTaskId, processChunkTaskId } from '../../src/core/task-ids';
import { QUEUE_NAMES, type QueueName } from '../../src/ports';
import { FakeFunctions } from './fake-functions';

/** `kickoffTask`, `processChunkTask`, ...: one task function per engine queue. */
const FUNCTION_NAMES = Object.fromEntries(QUEUE_NAMES.map((queue) => [queue, `${queue}Task`])) as Record<QueueName, string>;

describe('CloudTasksQueue', () => {
  let functions: FakeFunctions;

  beforeEach(() => {
    functions = new FakeFunctions();
  });

  it('enqueues on the region-qualified queue with the deadline always set', async () => {
    const queue = new CloudTasksQueue(functions.asFunctions(), {
      region: 'europe-west1',
      functionNames: FUNCTION_NAMES,
      dispatchDeadlineSeconds: { kickoff: 60, processChunk: 540 },
    });
    expect(await queue.enqueue('kickoff', { jobId: 'j1' })).toEqual({ enqueued: true });
    await queue.enqueue('processChunk', { jobId: 'j1', chunkId: 'c' }, { delaySeconds: 29.2 });
    await queue.enqueue('finalize', { jobId: 'j1' });
    expect(functions.enqueued).toEqual([
      { queue: 'locations/europe-west1/functions/kickoffTask', data: { jobId: 'j1' }, options: { dispatchDeadlineSeconds: 60 } },
      {
        queue: 'locations/europe-west1/functions/processChunkTask',
        data: { jobId: 'j1', chunkId: 'c' },
        options: { dispatchDeadlineSeconds: 540, scheduleDelaySeconds: 30 },
      },
      { queue: 'locations/europe-west1/functions/finalizeTask', data: { jobId: 'j1' }, options: { dispatchDeadlineSeconds: 600 } },
    ]);
  });

  it('uses plain function names in us-central1 and one deadline for all queues when given a number', async () => {
    const queue = new CloudTasksQueue(functions.asFunctions(), {
      region: 'us-central1',
      functionNames: FUNCTION_NAMES,
      dispatchDeadlineSeconds: 1800,
    });
    await queue.enqueue('finalize', { jobId: 'j1' });
    expect(functions.enqueued[0]).toMatchObject({ queue: 'finalizeTask', options: { dispatchDeadlineSeconds: 1800 } });
  });

  it('treats a duplicate id as already enqueued, per queue', async () => {
    const queue = new CloudTasksQueue(functions.asFunctions(), { region: 'us-central1', functionNames: FUNCTION_NAMES });
    const id = processChunkTaskId('job-1', 'a'.repeat(64), 1);
    expect(await queue.enqueue('processChunk', { jobId: 'job-1' }, { id })).toEqual({ enqueued: true });
    expect(await queue.enqueue('processChunk', { jobId: 'job-1' }, { id })).toEqual({ enqueued: false });
    expect(await queue.enqueue('finalize', { jobId: 'job-1' }, { id })).toEqual({ enqueued: true });
    expect(functions.enqueued.map((e) => e.options.id)).toEqual([id, id]);
  });

  it('maps an id Cloud Tasks would refuse to an accepted one, the same every time', async () => {
    const queue = new CloudTasksQueue(functions.asFunctions(), { region: 'us-central1', functionNames: FUNCTION_NAMES });
    expect(await queue.enqueue('kickoff', {}, { id: 'job:1:kickoff' })).toEqual({ enqueued: true });
    expect(await queue.enqueue('kickoff', {}, { id: 'job:1:kickoff' })).toEqual({ enqueued: false });
    expect(await queue.enqueue('kickoff', {}, { id: 'job/1/kickoff' })).toEqual({ enqueued: true });
  });

  it('maps other failures with their retry class', async () => {
    const queue = new CloudTasksQueue(functions.asFunctions(), { region: 'us-central1', functionNames: FUNCTION_NAMES });
    functions.failNext = Object.assign(new Error('busy'), { code: 'functions/unknown-error', httpResponse: { status: 503 } });
    await expect(queue.enqueue('kickoff', {})).rejects.toMatchObject({ code: 'unavailable', retryable: true });
    functions.failNext = Object.assign(new Error('no'), { code: 'functions/permission-denied', httpResponse: { status: 403 } });
    await expect(queue.enqueue('kickoff', {})).rejects.toMatchObject({ code: 'permission-denied', retryable: false });
  });

  it('asks a deadline function at each enqueue, for the queue, and refuses what it answers out of range', async () => {
    const asked: QueueName[] = [];
    let seconds = 900;
    const queue = new CloudTasksQueue(functions.asFunctions(), {
      region: 'us-central1',
      functionNames: FUNCTION_NAMES,
      dispatchDeadlineSeconds: (q) => {
        asked.push(q);
        return seconds;
      },
    });
    expect(asked).toEqual([]);
    await queue.enqueue('processChunk', {});
    seconds = 1200;
    await queue.enqueue('finalize', {});
    seconds = 1801;
    await expect(queue.enqueue('finalize', {})).rejects.toMatchObject({ code: 'invalid-argument', message: expect.stringContaining('finalize') });
    expect(asked).toEqual(['processChunk', 'finalize', 'finalize']);
    expect(functions.enqueued.map((t) => [t.queue, t.options['dispatchDeadlineSeconds']])).toEqual([
      ['processChunkTask', 900],
      ['finalizeTask', 1200],
    ]);
  });

  it('refuses bad options at construction and bad delays at enqueue', async () => {
    const make = (options: Partial<ConstructorParameters<typeof CloudTasksQueue>[1]>) => () =>
      new CloudTasksQueue(functions.asFunctions(), { region: 'us-central1', functionNames: FUNCTION_NAMES, ...options });
    expect(make({ dispatchDeadlineSeconds: 14 })).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    expect(make({ dispatchDeadlineSeconds: { finalize: 1801 } })).toThrow(/finalize/);
    expect(make({ region: 'Europe West' })).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    expect(make({ functionNames: { ...FUNCTION_NAMES, kickoff: 'a/b' } })).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    const queue = make({})();
    await expect(queue.enqueue('kickoff', {}, { delaySeconds: -1 })).rejects.toMatchObject({ code: 'invalid-argument' });
    expect(functions.enqueued).toEqual([]);
  });
});

describe('cloudTaskId', () => {
  it('keeps the engine’s ids as they are', () => {
    for (const id of [kickoffTaskId('job_1', 2), processChunkTaskId('job-1', 'f'.repeat(64), 1), finalizeTaskId('s_sched_1700000000000', 3)]) {
      expect(cloudTaskId(id)).toBe(id);
    }
  });

  it('maps other ids deterministically to accepted ones that do not collide', () => {
    const ids = ['a:b', 'a/b', 'a b', 'a-b', 'é', 'x'.repeat(501), 'x'.repeat(500) + 'y'];
    const mapped = ids.map(cloudTaskId);
    for (const id of mapped) {
      expect(id).toMatch(/^[A-Za-z0-9_-]{1,500}$/);
    }
    expect(new Set(mapped).size).toBe(ids.length);
    expect(cloudTaskId('a:b')).toBe(cloudTaskId('a:b'));
    expect(cloudTaskId('a:b')).toMatch(/^a-b_[0-9a-f]{16}$/);
    expect(() => cloudTaskId('')).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
  });
});

describe('queueResourceName', () => {
  it('qualifies the name outside us-central1', () => {
    expect(queueResourceName('us-central1', 'f')).toBe('f');
    expect(queueResourceName('asia-northeast1', 'f')).toBe('locations/asia-northeast1/functions/f');
    expect(queueResourceName('northamerica-northeast2', 'f')).toBe('locations/northamerica-northeast2/functions/f');
  });
});
