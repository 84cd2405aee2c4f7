/**
 * The TaskQueue contract as tests (functions/src/ports/task-queue.ts): the memory fake, the SQLite
 * queue and the Cloud Tasks queue (over a fake of firebase-admin's task queues) run this same
 * suite. Every queue is held to its enqueue semantics; a queue that can run tasks here (`runner`)
 * is also held to delivery, retries and, where it keeps time (`advance`), its delays.
 */
import type { ErrorCode } from '../../src/core/errors';
import type { RetryPolicy } from '../../src/core/retry-policy';
import type { QueueName, TaskContext, TaskHandler, TaskPayload, TaskQueue } from '../../src/ports';

/** A task as the queue holds it before it runs. */
export interface ScheduledTask {
  queue: QueueName;
  payload: TaskPayload;
  /** The earliest run, in ms after the enqueue. */
  notBeforeMs: number;
}

export interface TaskRunner {
  /** Runs the tasks due now, and those they enqueue or retry that are due, until none is. */
  runDue(handlers: Partial<Record<QueueName, TaskHandler>>, retry: RetryPolicy): Promise<void>;
  /** Moves the queue's clock (with `runs: 'by-clock'`). */
  advance?(ms: number): void;
}

export interface TaskQueueHandle {
  queue: TaskQueue;
  /** Every task enqueued and not yet run, in enqueue order. */
  scheduled(): Promise<ScheduledTask[]>;
  /** Runs tasks, for queues that can run them here (see {@link TaskQueueAbilities}). */
  runner?: TaskRunner;
  close?: () => Promise<void> | void;
}

export interface TaskQueueAbilities {
  /**
   * Whether the queue runs tasks in a test: `by-clock` honours delays on a clock the test moves
   * (SQLite), `on-demand` runs whatever is queued, ignoring delays (the memory fake).
   * @default none: the queue only enqueues here (Cloud Tasks over its fake), so only enqueue semantics are tested
   */
  runs?: 'by-clock' | 'on-demand';
}

async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await expect(promise).rejects.toMatchObject({ name: 'LifeboatError', code });
}

/** A payload with everything JSON carries: nesting, arrays, unicode, numbers, booleans, null. */
const RICH_PAYLOAD: TaskPayload = {
  jobId: 'job_1',
  chunk: { id: 'a'.repeat(64), sizes: [0, 1, 2 ** 40], ratio: 0.25 },
  name: 'Zoë ✓ 漢字 🚀',
  flags: [true, false, null],
  nested: { deeper: { deepest: ['x', { y: -1 }] } },
};

/** One retry, at once: a handler that throws once runs twice. */
const RETRY_ONCE: RetryPolicy = { delaysSeconds: [1], jitter: 0 };

export function describeTaskQueueConformance(name: string, makeQueue: () => Promise<TaskQueueHandle>, abilities: TaskQueueAbilities = {}): void {
  describe(`TaskQueue conformance: ${name}`, () => {
    let h: TaskQueueHandle;

    beforeEach(async () => {
      h = await makeQueue();
    });

    afterEach(async () => {
      await h.close?.();
    });

    it('an id is create-if-absent: a second enqueue answers not enqueued and schedules nothing', async () => {
      expect(await h.queue.enqueue('processChunk', { n: 1 }, { id: 'job1_chunk1_process_0' })).toEqual({ enqueued: true });
      expect(await h.queue.enqueue('processChunk', { n: 2 }, { id: 'job1_chunk1_process_0' })).toEqual({ enqueued: false });
      expect(await h.queue.enqueue('processChunk', { n: 3 }, { id: 'job1_chunk1_process_0', delaySeconds: 5 })).toEqual({ enqueued: false });
      expect((await h.scheduled()).map((t) => [t.queue, t.payload])).toEqual([['processChunk', { n: 1 }]]);
    });

    it('keeps ids apart per queue and per id, and never dedups tasks without one', async () => {
      expect(await h.queue.enqueue('kickoff', { q: 'kickoff' }, { id: 'job1_kickoff_0' })).toEqual({ enqueued: true });
      expect(await h.queue.enqueue('finalize', { q: 'finalize' }, { id: 'job1_kickoff_0' })).toEqual({ enqueued: true });
      expect(await h.queue.enqueue('kickoff', { q: 'kickoff' }, { id: 'job1_kickoff_1' })).toEqual({ enqueued: true });
      expect(await h.queue.enqueue('maintenance', { same: true })).toEqual({ enqueued: true });
      expect(await h.queue.enqueue('maintenance', { same: true })).toEqual({ enqueued: true });
      expect((await h.scheduled()).map((t) => t.queue).sort()).toEqual(['finalize', 'kickoff', 'kickoff', 'maintenance', 'maintenance']);
    });

    it('accepts every id of 1 to 500 characters of [A-Za-z0-9_-], the alphabet of derived ids', async () => {
      for (const id of ['a', 'A-z_0-9', 'x'.repeat(500)]) expect(await h.queue.enqueue('sourcePage', {}, { id })).toEqual({ enqueued: true });
      expect(await h.scheduled()).toHaveLength(3);
    });

    it('holds the payload as its JSON copy, taken at enqueue', async () => {
      const payload = structuredClone(RICH_PAYLOAD);
      await h.queue.enqueue('finalize', payload, { id: 'job_1_finalize_0' });
      (payload['chunk'] as { sizes: number[] }).sizes.push(99);
      payload['name'] = 'changed after enqueue';
      const [task] = await h.scheduled();
      expect(task?.payload).toEqual(JSON.parse(JSON.stringify(RICH_PAYLOAD)));
    });

    it('schedules a delayed task no earlier than its delay', async () => {
      await h.queue.enqueue('dispatch', { d: 0 });
      await h.queue.enqueue('dispatch', { d: 30 }, { delaySeconds: 30 });
      await h.queue.enqueue('dispatch', { d: 1.5 }, { delaySeconds: 1.5 });
      const byPayload = new Map((await h.scheduled()).map((t) => [t.payload['d'], t.notBeforeMs]));
      expect(byPayload.get(0)).toBe(0);
      expect(byPayload.get(30)).toBeGreaterThanOrEqual(30_000);
      expect(byPayload.get(1.5)).toBeGreaterThanOrEqual(1_500);
    });

    it.each([
      ['an unknown queue', () => h.queue.enqueue('nope' as QueueName, {})],
      ['an empty id', () => h.queue.enqueue('kickoff', {}, { id: '' })],
      ['a negative delay', () => h.queue.enqueue('kickoff', {}, { delaySeconds: -1 })],
      ['a delay that is not a number', () => h.queue.enqueue('kickoff', {}, { delaySeconds: Number.NaN })],
      ['an infinite delay', () => h.queue.enqueue('kickoff', {}, { delaySeconds: Number.POSITIVE_INFINITY })],
    ])('refuses %s with invalid-argument and schedules nothing', async (_what, enqueue) => {
      await expectCode(enqueue(), 'invalid-argument');
      expect(await h.scheduled()).toEqual([]);
    });

    it('refuses an enqueue whose signal has fired with cancelled, and schedules nothing', async () => {
      const controller = new AbortController();
      controller.abort();
      await expectCode(h.queue.enqueue('kickoff', { jobId: 'j' }, { id: 'j_kickoff_0', signal: controller.signal }), 'cancelled');
      expect(await h.scheduled()).toEqual([]);
      // Nothing was remembered either: the same id goes in afterwards.
      expect(await h.queue.enqueue('kickoff', { jobId: 'j' }, { id: 'j_kickoff_0' })).toEqual({ enqueued: true });
    });

    // Queues that cannot run tasks here are held to enqueue semantics only.
    (abilities.runs ? describe : describe.skip)('running tasks', () => {
      const runs = (): TaskRunner => {
        if (!h.runner) throw new Error(`${name} says it runs tasks but its handle has no runner`);
        return h.runner;
      };

      it('delivers a task once, with its JSON payload, its queue, its id and retry count 0', async () => {
        const seen: Array<[TaskPayload, TaskContext]> = [];
        await h.queue.enqueue('finalize', RICH_PAYLOAD, { id: 'job_1_finalize_0' });
        await runs().runDue({ finalize: async (payload, context) => void seen.push([payload, context]) }, RETRY_ONCE);
        await runs().runDue({ finalize: async (payload, context) => void seen.push([payload, context]) }, RETRY_ONCE);
        expect(seen).toHaveLength(1);
        expect(seen[0]?.[0]).toEqual(JSON.parse(JSON.stringify(RICH_PAYLOAD)));
        expect(seen[0]?.[1]).toMatchObject({ queue: 'finalize', taskId: 'job_1_finalize_0', retryCount: 0 });
        expect(await h.scheduled()).toEqual([]);
      });

      it('remembers an id after its task ran: the same work is not scheduled again', async () => {
        await h.queue.enqueue('kickoff', {}, { id: 'job2_kickoff_0' });
        await runs().runDue({ kickoff: async () => {} }, RETRY_ONCE);
        expect(await h.queue.enqueue('kickoff', {}, { id: 'job2_kickoff_0' })).toEqual({ enqueued: false });
        expect(await h.scheduled()).toEqual([]);
      });

      it('retries a handler that throws, with the retry count, until its policy runs out', async () => {
        const attempts: number[] = [];
        const failing: TaskHandler = async (_payload, context) => {
          attempts.push(context.retryCount);
          throw new Error('transient');
        };
        await h.queue.enqueue('processChunk', {}, { id: 'job3_c_process_0' });
        for (let round = 0; round < 3; round += 1) {
          await runs().runDue({ processChunk: failing }, RETRY_ONCE);
          runs().advance?.(1_000);
        }
        expect(attempts).toEqual([0, 1]);
        expect(await h.scheduled()).toEqual([]);
      });

      // A queue that runs on demand ignores delays; its scheduled delays are checked above.
      (abilities.runs === 'by-clock' ? it : it.skip)('runs a delayed task no earlier than its delay', async () => {
        const advance = (ms: number) => {
          if (!runs().advance) throw new Error(`${name} runs by clock but its runner cannot advance it`);
          runs().advance?.(ms);
        };
        const ran: string[] = [];
        const handlers = { dispatch: async (payload: TaskPayload) => void ran.push(String(payload['at'])) };
        await h.queue.enqueue('dispatch', { at: 'now' });
        await h.queue.enqueue('dispatch', { at: '30s' }, { delaySeconds: 30 });
        await runs().runDue(handlers, RETRY_ONCE);
        expect(ran).toEqual(['now']);
        advance(29_999);
        await runs().runDue(handlers, RETRY_ONCE);
        expect(ran).toEqual(['now']);
        advance(1);
        await runs().runDue(handlers, RETRY_ONCE);
        expect(ran).toEqual(['now', '30s']);
      });
    });
  });
}
