import type { QueueDefinition, QueueName } from '../../src/ports';
import { describeTaskQueueConformance } from '../conformance/task-queue-conformance';
import { MemoryTaskQueue } from './engine-harness';

describeTaskQueueConformance(
  'MemoryTaskQueue',
  async () => {
    const queue = new MemoryTaskQueue();
    return {
      queue,
      scheduled: async () => queue.pending.map((t) => ({ queue: t.queue, payload: t.payload, notBeforeMs: t.delaySeconds * 1000 })),
      runner: {
        runDue: async (handlers, retry) => {
          const definitions = Object.entries(handlers).map(([name, handler]): QueueDefinition => ({ name: name as QueueName, handler, retry, dispatchDeadlineSeconds: 60 }));
          await queue.drain(definitions);
        },
      },
    };
  },
  { runs: 'on-demand' },
);
