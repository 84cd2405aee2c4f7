/**
 * A hand-written fake of firebase-admin's `Functions.taskQueue()`: it records enqueues (the body
 * as the JSON the SDK sends) and, like Cloud Tasks, refuses an id outside `[A-Za-z0-9_-]` and a
 * second task with an id it has seen (`functions/task-already-exists`).
 */
import type { Functions } from 'firebase-admin/functions';

export interface Enqueued {
  queue: string;
  data: unknown;
  options: Record<string, unknown>;
}

export class FakeFunctions {
  readonly enqueued: Enqueued[] = [];
  private readonly seenIds = new Set<string>();
  /** Fails the next enqueue with this error. */
  failNext: Error | undefined;

  asFunctions(): Functions {
    return this as unknown as Functions;
  }

  taskQueue(queue: string): { enqueue(data: unknown, options?: Record<string, unknown>): Promise<void> } {
    return {
      enqueue: async (data, options = {}) => {
        if (this.failNext) {
          const err = this.failNext;
          this.failNext = undefined;
          throw err;
        }
        const id = options.id;
        if (typeof id === 'string') {
          if (!/^[A-Za-z0-9_-]+$/.test(id)) throw Object.assign(new Error('bad id'), { code: 'functions/invalid-argument' });
          const key = `${queue}/${id}`;
          if (this.seenIds.has(key)) {
            throw Object.assign(new Error(`A task with ID ${id} already exists`), { code: 'functions/task-already-exists' });
          }
          this.seenIds.add(key);
        }
        // The SDK sends the task's body as JSON: what Cloud Tasks holds is its JSON copy.
        this.enqueued.push({ queue, data: JSON.parse(JSON.stringify(data)) as unknown, options });
      },
    };
  }
}
