/**
 * A turn the task threads of one process take one at a time: a lock in shared memory holding the
 * thread id of its holder (0: free). Media steps take it, so one image's pixels are in memory per
 * process, as when every step ran on one event loop (strategies/media.ts takes turns within a
 * thread; threads do not share its module). A thread the pool terminates while it holds the turn
 * (its deadline passed) cannot give it back, so the pool does (`releaseTurnOf`).
 */
import { threadId } from 'node:worker_threads';

type WaitAsync = (array: Int32Array, index: number, value: number) => { async: boolean; value: Promise<string> | string };

/** The shared cell of a new turn, to hand to every thread of the pool. */
export function newTurnCell(): SharedArrayBuffer {
  return new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
}

/** Gives the turn back if thread `owner` holds it (the pool, for a thread it terminated). */
export function releaseTurnOf(cell: SharedArrayBuffer, owner: number): void {
  const lock = new Int32Array(cell);
  if (Atomics.compareExchange(lock, 0, owner, 0) === owner) Atomics.notify(lock, 0);
}

/** Runs `work` once this thread holds the turn, waiting without blocking its event loop. */
export async function withTurn<T>(cell: SharedArrayBuffer, work: () => Promise<T>): Promise<T> {
  const lock = new Int32Array(cell);
  const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;
  for (;;) {
    const holder = Atomics.compareExchange(lock, 0, 0, threadId);
    if (holder === 0) break;
    if (waitAsync) {
      const waited = waitAsync(lock, 0, holder);
      if (waited.async) await waited.value;
    } else {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  try {
    return await work();
  } finally {
    releaseTurnOf(cell, threadId);
  }
}
