/**
 * The worker-thread pool on its own, with a small worker script standing in for the engine: an
 * attempt that spins is ended by its abort (the queue's deadline) while another thread keeps
 * working, a thread that runs out of memory or exits ends only its own attempt and says why, and
 * errors, log lines and enqueue notices cross the thread boundary.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@lifeboat/engine/ports';
import { TaskWorkerPool } from '../src/tasks/task-worker-pool';

let dir: string;
let script: string;
let pools: TaskWorkerPool[];

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
parentPort.on('message', async (m) => {
  const kind = m.payload.kind;
  if (kind === 'spin') for (;;) {}
  if (kind === 'oom') { const hog = []; for (;;) hog.push(new Array(100000).fill(hog.length)); }
  if (kind === 'exit') process.exit(3);
  if (kind === 'throw') {
    parentPort.postMessage({ type: 'failed', runId: m.runId, error: { code: 'unavailable', message: 'busy ' + m.context.taskId, retryable: true, details: { retryAfterMs: 5 } } });
    return;
  }
  if (kind === 'log') parentPort.postMessage({ type: 'log', level: 'warn', message: 'from ' + workerData.data.name, fields: { retry: m.context.retryCount } });
  if (kind === 'enqueue') parentPort.postMessage({ type: 'enqueued' });
  if (kind === 'slow') await new Promise((r) => setTimeout(r, 200));
  parentPort.postMessage({ type: 'done', runId: m.runId });
});
parentPort.postMessage({ type: 'ready' });
`;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-pool-'));
  script = join(dir, 'worker.js');
  writeFileSync(script, WORKER);
  pools = [];
});

afterEach(async () => {
  await Promise.all(pools.map((p) => p.close()));
  rmSync(dir, { recursive: true, force: true });
});

function pool(options: { size?: number; heapLimitMb?: number; logger?: Logger; onEnqueued?: () => void } = {}) {
  const logger = options.logger ?? { info: () => {}, warn: () => {}, error: () => {} };
  const p = new TaskWorkerPool({ script, data: () => ({ name: 'w' }), size: options.size ?? 2, logger, ...(options.heapLimitMb ? { heapLimitMb: options.heapLimitMb } : {}), ...(options.onEnqueued ? { onEnqueued: options.onEnqueued } : {}) });
  pools.push(p);
  return p;
}

const ctx = (taskId: string, signal?: AbortSignal) => ({ queue: 'processChunk' as const, taskId, retryCount: 1, ...(signal ? { signal } : {}) });

describe('TaskWorkerPool', () => {
  it('ends a spinning attempt when it is aborted, while another thread completes its work', async () => {
    const p = pool({ size: 2 });
    const controller = new AbortController();
    const spinning = p.run('processChunk', { kind: 'spin' }, ctx('hostile', controller.signal));
    spinning.catch(() => undefined);
    // The other thread works while the first spins: the spin cannot block it.
    for (let i = 0; i < 3; i++) await expect(p.run('processChunk', { kind: 'slow' }, ctx(`friendly-${i}`))).resolves.toBeUndefined();
    let settled = false;
    spinning.finally(() => { settled = true; }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);
    controller.abort();
    await expect(spinning).rejects.toMatchObject({ code: 'aborted', message: expect.stringContaining('task=hostile') });
    // Its thread was replaced: the pool still runs two at once.
    await expect(Promise.all([p.run('processChunk', { kind: 'slow' }, ctx('a')), p.run('processChunk', { kind: 'slow' }, ctx('b'))])).resolves.toEqual([undefined, undefined]);
    expect(p.threads).toBe(2);
  });

  it('a thread that runs out of memory fails only its attempt, as out of memory', async () => {
    const p = pool({ size: 2, heapLimitMb: 16 });
    await expect(p.run('processChunk', { kind: 'oom' }, ctx('hog'))).rejects.toMatchObject({ details: { attemptLost: 'out-of-memory' }, message: expect.stringMatching(/ran out of memory \(heap limit 16 MiB\)/) });
    await expect(p.run('processChunk', { kind: 'ok' }, ctx('next'))).resolves.toBeUndefined();
  });

  it('a thread that exits fails its attempt as a crash', async () => {
    const p = pool();
    await expect(p.run('finalize', { kind: 'exit' }, ctx('exits'))).rejects.toMatchObject({ details: { attemptLost: 'worker-exit' }, message: expect.stringMatching(/exited with code 3/) });
  });

  it("carries a handler's error, log lines and enqueue notices across the boundary", async () => {
    const lines: string[] = [];
    let wakes = 0;
    const p = pool({ logger: { info: () => {}, error: () => {}, warn: (m, f) => { lines.push(`${m} ${JSON.stringify(f)}`); } }, onEnqueued: () => { wakes += 1; } });
    await expect(p.run('kickoff', { kind: 'throw' }, ctx('t9'))).rejects.toMatchObject({ code: 'unavailable', retryable: true, message: 'busy t9', details: { retryAfterMs: 5 } });
    await p.run('kickoff', { kind: 'log' }, ctx('t1'));
    await p.run('kickoff', { kind: 'enqueue' }, ctx('t2'));
    expect(lines).toEqual(['from w {"retry":1}']);
    expect(wakes).toBe(1);
  });

  it('never runs two attempts on one thread: a third waits for a free thread', async () => {
    const p = pool({ size: 2 });
    const order: string[] = [];
    await Promise.all(['a', 'b', 'c'].map((id) => p.run('processChunk', { kind: 'slow' }, ctx(id)).then(() => order.push(id))));
    expect(order.sort()).toEqual(['a', 'b', 'c']);
    expect(p.threads).toBe(2);
  });

  it('rejects runs once closed', async () => {
    const p = pool();
    const running = p.run('processChunk', { kind: 'spin' }, ctx('late'));
    running.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 50));
    await p.close();
    await expect(running).rejects.toMatchObject({ code: 'aborted' });
    await expect(p.run('processChunk', { kind: 'ok' }, ctx('after'))).rejects.toMatchObject({ code: 'unavailable' });
  });
});
