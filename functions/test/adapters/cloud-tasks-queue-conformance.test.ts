/**
 * CloudTasksQueue held to the TaskQueue contract over the fake of firebase-admin's task queues:
 * enqueue semantics only, since nothing runs the tasks here (the emulator suite does).
 */
import { CloudTasksQueue } from '../../src/adapters';
import { QUEUE_NAMES, type QueueName, type TaskPayload } from '../../src/ports';
import { describeTaskQueueConformance } from '../conformance/task-queue-conformance';
import { FakeFunctions } from './fake-functions';

const FUNCTION_NAMES = Object.fromEntries(QUEUE_NAMES.map((queue) => [queue, `${queue}Task`])) as Record<QueueName, string>;
const QUEUE_OF_FUNCTION = new Map<string, QueueName>(QUEUE_NAMES.map((queue) => [`locations/europe-west1/functions/${queue}Task`, queue]));

describeTaskQueueConformance('CloudTasksQueue over a fake of firebase-admin', async () => {
  const functions = new FakeFunctions();
  return {
    queue: new CloudTasksQueue(functions.asFunctions(), { region: 'europe-west1', functionNames: FUNCTION_NAMES }),
    scheduled: async () =>
      functions.enqueued.map((e) => ({
        queue: QUEUE_OF_FUNCTION.get(e.queue) ?? (`unknown function ${e.queue}` as QueueName),
        payload: e.data as TaskPayload,
        notBeforeMs: Number(e.options['scheduleDelaySeconds'] ?? 0) * 1000,
      })),
  };
});
