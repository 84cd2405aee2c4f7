/** SqliteTaskQueue held to the TaskQueue contract, running tasks on a clock the suite moves. */
import type { QueueName, TaskPayload } from '@lifeboat/engine/ports';
import { describeTaskQueueConformance } from '../../functions/test/conformance/task-queue-conformance';
import { openDatabase } from '../src/adapters/sqlite-database';
import { SqliteTaskQueue } from '../src/adapters/sqlite-task-queue';

describeTaskQueueConformance(
  'SqliteTaskQueue',
  async () => {
    let now = 1_700_000_000_000;
    const db = openDatabase(':memory:');
    const queue = new SqliteTaskQueue({ db, clock: { now: () => now }, random: () => 0.5, workerId: 'conformance', logger: { info: () => {}, warn: () => {} } });
    return {
      queue,
      scheduled: async () =>
        queue
          .list()
          .filter((t) => t.state === 'pending')
          .map((t) => ({ queue: t.queue as QueueName, payload: t.payload as TaskPayload, notBeforeMs: t.runAt - t.createdAt })),
      runner: {
        runDue: async (handlers, retry) => {
          for (const [name, handler] of Object.entries(handlers)) queue.register({ name: name as QueueName, handler, retry, dispatchDeadlineSeconds: 60 });
          await queue.runDue();
        },
        advance: (ms) => {
          now += ms;
        },
      },
      close: async () => {
        await queue.stop();
        db.close();
      },
    };
  },
  { runs: 'by-clock' },
);
