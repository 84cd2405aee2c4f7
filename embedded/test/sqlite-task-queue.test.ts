import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_RETRY_POLICY, type LifeboatError, type TaskLostEvent } from '@lifeboat/engine/core';
import type { QueueDefinition, QueueName, TaskContext, TaskPayload } from '@lifeboat/engine/ports';
import { openDatabase, type Database } from '../src/adapters/sqlite-database';
import { attemptLost, MAX_INTERRUPTIONS, SqliteTaskQueue } from '../src/adapters/sqlite-task-queue';
import { currentProcess } from '../src/adapters/process-identity';

let dir: string;
let dbs: Database[];
let now: number;
const clock = { now: () => now };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-queue-'));
  dbs = [];
  warnings = [];
  now = 1_700_000_000_000;
});

afterEach(() => {
  for (const db of dbs) db.close();
  rmSync(dir, { recursive: true, force: true });
});

let warnings: string[];

function queue(options: { random?: () => number; concurrency?: number; workerId?: string; onAttemptLost?: (e: TaskLostEvent) => Promise<void>; interruptOnStop?: boolean } = {}) {
  const db = openDatabase(join(dir, 'queue.db'));
  dbs.push(db);
  const logger = { info: () => {}, warn: (message: string) => { warnings.push(message); } };
  return new SqliteTaskQueue({
    db,
    clock,
    logger,
    random: options.random ?? (() => 0.5),
    concurrency: options.concurrency ?? 4,
    workerId: options.workerId ?? 'w1',
    ...(options.onAttemptLost ? { onAttemptLost: options.onAttemptLost } : {}),
    ...(options.interruptOnStop ? { interruptOnStop: true } : {}),
  });
}

/** A process that registers as a queue worker, leases `task` and waits to be killed. */
async function leasingProcess(task: string, startedAt: string | null = null) {
  const script = join(dir, `lease-${task}.js`);
  writeFileSync(script, `
    const Database = require(${JSON.stringify(require.resolve('better-sqlite3'))});
    const db = new Database(${JSON.stringify(join(dir, 'queue.db'))});
    db.pragma('busy_timeout = 5000');
    const host = require('node:os').hostname();
    db.prepare('INSERT INTO task_workers (worker_id, host, pid, process_started_at, started_at) VALUES (?, ?, ?, ?, 0)').run('child-' + process.pid, host, process.pid, ${JSON.stringify(startedAt)});
    db.prepare("UPDATE tasks SET state = 'leased', lease_owner = ?, lease_until = ?, updated_at = 0 WHERE id = ? AND state = 'pending'").run('child-' + process.pid, ${now} + 540000, ${JSON.stringify(task)});
    process.stdout.write('leased\\n');
    setInterval(() => {}, 1000);
  `);
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => { if (d.toString().includes('leased')) resolve(); }));
  return child;
}

function define(name: QueueName, handler: (p: TaskPayload, c: TaskContext) => Promise<void>, deadline = 60): QueueDefinition {
  return { name, handler, retry: DEFAULT_RETRY_POLICY, dispatchDeadlineSeconds: deadline };
}

describe('SqliteTaskQueue', () => {
  it('does not run a delayed task before its time, and runs it once due', async () => {
    const q = queue();
    const ran: unknown[] = [];
    q.register(define('kickoff', async (p) => { ran.push(p); }));
    await q.enqueue('kickoff', { jobId: 'j1' }, { delaySeconds: 30 });
    now += 29_999;
    expect(await q.runDue()).toBe(0);
    expect(ran).toEqual([]);
    now += 1;
    expect(await q.runDue()).toBe(1);
    expect(ran).toEqual([{ jobId: 'j1' }]);
    expect(await q.runDue()).toBe(0);
  });

  it('runs a dedup id once, also after it completed, until the window passes', async () => {
    const q = queue();
    let runs = 0;
    q.register(define('finalize', async () => { runs += 1; }));
    expect(await q.enqueue('finalize', { jobId: 'j' }, { id: 'j_finalize_1' })).toEqual({ enqueued: true });
    expect(await q.enqueue('finalize', { jobId: 'j' }, { id: 'j_finalize_1' })).toEqual({ enqueued: false });
    await q.runDue();
    expect(await q.enqueue('finalize', { jobId: 'j' }, { id: 'j_finalize_1' })).toEqual({ enqueued: false });
    await q.runDue();
    expect(runs).toBe(1);
    // Same id on another queue is another task.
    expect(await q.enqueue('kickoff', { jobId: 'j' }, { id: 'j_finalize_1' })).toEqual({ enqueued: true });
    now += 3_600_000;
    expect(await q.enqueue('finalize', { jobId: 'j' }, { id: 'j_finalize_1' })).toEqual({ enqueued: true });
    await q.runDue();
    expect(runs).toBe(2);
  });

  it('retries on the ladder 30 s, 60 s, 120 s, 300 s, 600 s, then drops the task', async () => {
    const q = queue();
    const attempts: Array<{ at: number; retryCount: number }> = [];
    const start = now;
    q.register(define('processChunk', async (_p, c) => {
      attempts.push({ at: now - start, retryCount: c.retryCount });
      throw new Error(`boom ${c.retryCount}`);
    }));
    await q.enqueue('processChunk', { jobId: 'j' }, { id: 't1' });
    for (let i = 0; i < 20; i++) {
      await q.runDue();
      const info = q.inspect('processChunk', 't1');
      if (info?.state !== 'pending') break;
      now = info.runAt;
    }
    expect(attempts).toEqual([
      { at: 0, retryCount: 0 },
      { at: 30_000, retryCount: 1 },
      { at: 90_000, retryCount: 2 },
      { at: 210_000, retryCount: 3 },
      { at: 510_000, retryCount: 4 },
      { at: 1_110_000, retryCount: 5 },
    ]);
    expect(q.inspect('processChunk', 't1')).toMatchObject({ state: 'dropped', retryCount: 5, lastError: 'boom 5' });
    expect(warnings).toEqual([expect.stringMatching(/dropped.*t1.*boom 5/)]);
    now += 10_000_000;
    expect(await q.runDue()).toBe(0);
  });

  it('jitters retry delays within ±10 %', async () => {
    for (const [random, low, high] of [[() => 0, 27_000, 27_000], [() => 0.999999, 30_001, 33_000]] as const) {
      const q = queue({ random });
      q.register(define('kickoff', async () => { throw new Error('x'); }));
      const id = `t${low}`;
      await q.enqueue('kickoff', {}, { id });
      await q.runDue();
      const delay = (q.inspect('kickoff', id)?.runAt ?? 0) - now;
      expect(delay).toBeGreaterThanOrEqual(low);
      expect(delay).toBeLessThanOrEqual(high);
    }
  });

  it('a handler that succeeds on the third attempt ends done with retryCount 2', async () => {
    const q = queue();
    q.register(define('kickoff', async (_p, c) => { if (c.retryCount < 2) throw new Error('not yet'); }));
    await q.enqueue('kickoff', {}, { id: 'k' });
    for (let i = 0; i < 5; i++) {
      await q.runDue();
      const info = q.inspect('kickoff', 'k');
      if (info?.state !== 'pending') break;
      now = info.runAt;
    }
    expect(q.inspect('kickoff', 'k')).toMatchObject({ state: 'done', retryCount: 2 });
  });

  it('runs again a task whose worker died holding its lease (another connection)', async () => {
    const a = queue({ workerId: 'a' });
    const b = queue({ workerId: 'b' });
    const seen: Array<[string, number]> = [];
    let wakeA!: (err: Error) => void;
    a.register(define('kickoff', (_p, c) => {
      seen.push(['a', c.retryCount]);
      return new Promise<void>((_resolve, reject) => { wakeA = reject; });
    }, 60));
    b.register(define('kickoff', async (_p, c) => { seen.push(['b', c.retryCount]); }, 60));
    await a.enqueue('kickoff', { jobId: 'j' }, { id: 'k1' });
    const aDone = a.runDue(); // worker a claims it and does not finish: as far as b can tell, it died
    await new Promise((r) => setImmediate(r));
    expect(a.inspect('kickoff', 'k1')).toMatchObject({ state: 'leased', leaseOwner: 'a' });
    expect(await b.runDue()).toBe(0); // the lease still holds
    now += 60_001;
    expect(await b.runDue()).toBe(1);
    expect(seen).toEqual([['a', 0], ['b', 1]]);
    expect(b.inspect('kickoff', 'k1')).toMatchObject({ state: 'done', retryCount: 1 });
    // a's handler fails late: it no longer holds the lease, so its result changes nothing.
    wakeA(new Error('too late'));
    expect(await aDone).toBe(1);
    expect(b.inspect('kickoff', 'k1')).toMatchObject({ state: 'done', retryCount: 1, lastError: null });
  });

  it('ignores the late result of an attempt whose lease the same worker already re-claimed', async () => {
    const q = queue({ workerId: 'same' });
    let failFirst!: (err: Error) => void;
    q.register(define('kickoff', (_p, c) =>
      c.retryCount === 0 ? new Promise<void>((_resolve, reject) => { failFirst = reject; }) : Promise.resolve(),
    ));
    await q.enqueue('kickoff', {}, { id: 'twice' });
    const first = q.runDue();
    await new Promise((r) => setImmediate(r));
    now += 60_001;
    expect(await q.runDue()).toBe(1);
    expect(q.inspect('kickoff', 'twice')).toMatchObject({ state: 'done', retryCount: 1 });
    failFirst(new Error('stale'));
    await first;
    expect(q.inspect('kickoff', 'twice')).toMatchObject({ state: 'done', retryCount: 1, lastError: null });
  });

  it('runs again a task whose worker process was killed with SIGKILL', async () => {
    const q = queue();
    let ran = 0;
    q.register(define('kickoff', async () => { ran += 1; }, 60));
    await q.enqueue('kickoff', { jobId: 'j' }, { id: 'victim', delaySeconds: 0 });
    // A separate process claims the task the way a worker does, then is killed mid-task.
    const script = join(dir, 'worker.js');
    writeFileSync(script, `
      const Database = require(${JSON.stringify(require.resolve('better-sqlite3'))});
      const db = new Database(${JSON.stringify(join(dir, 'queue.db'))});
      db.pragma('busy_timeout = 5000');
      const now = ${now};
      db.prepare("UPDATE tasks SET state = 'leased', lease_owner = 'child', lease_until = ?, updated_at = ? WHERE queue = 'kickoff' AND id = 'victim' AND state = 'pending'").run(now + 60000, now);
      process.stdout.write('claimed\\n');
      setInterval(() => {}, 1000);
    `);
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => { if (d.toString().includes('claimed')) resolve(); }));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(q.inspect('kickoff', 'victim')).toMatchObject({ state: 'leased', leaseOwner: 'child' });
    expect(await q.runDue()).toBe(0);
    now += 60_001;
    expect(await q.runDue()).toBe(1);
    expect(ran).toBe(1);
    expect(q.inspect('kickoff', 'victim')).toMatchObject({ state: 'done', retryCount: 1 });
  });

  it('drops a task whose lease expires after its last attempt', async () => {
    const a = queue({ workerId: 'a' });
    a.register(define('kickoff', () => new Promise<void>(() => {}), 10));
    await a.enqueue('kickoff', {}, { id: 'stuck' });
    // Hung handlers keep their slots (their real-time deadline never passes here): room for all.
    const b = queue({ workerId: 'b', concurrency: 10 });
    b.register(define('kickoff', () => new Promise<void>(() => {}), 10));
    void a.runDue();
    for (let i = 0; i < 6; i++) {
      now += 10_001;
      void b.runDue();
      await new Promise((r) => setImmediate(r));
    }
    expect(b.inspect('kickoff', 'stuck')).toMatchObject({ state: 'dropped', retryCount: 5 });
  });

  it('settles quietly when the database closes under a running attempt', async () => {
    const q = queue();
    const releases: Array<() => void> = [];
    q.register(define('kickoff', () => new Promise<void>((resolve) => { releases.push(resolve); })));
    await q.enqueue('kickoff', {}, { id: 'late' });
    await q.enqueue('kickoff', {}, { id: 'next' });
    const done = q.runDue();
    while (releases.length < 2) await new Promise((r) => setImmediate(r));
    for (const db of dbs) db.close();
    dbs = [];
    for (const release of releases) release();
    // Before the guard, the freed slot asked the closed database for more work and runDue rejected.
    await expect(done).resolves.toBeGreaterThanOrEqual(1);
  });

  it('never runs more than `concurrency` tasks at once', async () => {
    const q = queue({ concurrency: 2 });
    let active = 0;
    let peak = 0;
    const releases: Array<() => void> = [];
    q.register(define('processChunk', () => {
      active += 1;
      peak = Math.max(peak, active);
      return new Promise<void>((resolve) => releases.push(() => { active -= 1; resolve(); }));
    }));
    for (let i = 0; i < 5; i++) await q.enqueue('processChunk', { i });
    const done = q.runDue();
    for (let i = 0; i < 5; i++) {
      while (releases.length === 0) await new Promise((r) => setImmediate(r));
      expect(active).toBeLessThanOrEqual(2);
      releases.shift()?.();
    }
    expect(await done).toBe(5);
    expect(peak).toBe(2);
    expect(q.counts()).toMatchObject({ done: 5, pending: 0, leased: 0 });
  });

  it('refuses bad input and enqueues nothing', async () => {
    const q = queue();
    for (const [options, pattern] of [
      [{ delaySeconds: -1 }, /delaySeconds/],
      [{ delaySeconds: Number.NaN }, /delaySeconds/],
      [{ delaySeconds: Number.POSITIVE_INFINITY }, /delaySeconds/],
      [{ id: 'has:colon' }, /task id/],
      [{ id: '' }, /task id/],
    ] as const) {
      await expect(q.enqueue('kickoff', {}, options)).rejects.toMatchObject({ code: 'invalid-argument', message: expect.stringMatching(pattern) } satisfies Partial<LifeboatError>);
    }
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    await expect(q.enqueue('kickoff', cyclic)).rejects.toMatchObject({ code: 'invalid-argument' });
    expect(q.list()).toEqual([]);
  });

  it('keeps tasks across a restart (durable)', async () => {
    const q1 = queue();
    await q1.enqueue('kickoff', { jobId: 'j' }, { id: 'durable', delaySeconds: 5 });
    dbs[0]?.close();
    dbs = [];
    const q2 = queue();
    const ran: unknown[] = [];
    q2.register(define('kickoff', async (p) => { ran.push(p); }));
    now += 5_000;
    await q2.runDue();
    expect(ran).toEqual([{ jobId: 'j' }]);
  });

  it('the polling loop runs work enqueued after start without a test clock tick', async () => {
    const q = new SqliteTaskQueue({ db: (dbs[dbs.length] = openDatabase(join(dir, 'loop.db'))), pollIntervalMs: 10 });
    const ran = new Promise<TaskPayload>((resolve) => q.register(define('kickoff', async (p) => resolve(p))));
    q.start();
    await q.enqueue('kickoff', { hello: 'loop' });
    await expect(ran).resolves.toEqual({ hello: 'loop' });
    await q.stop();
  });

  it('a hung handler fails at its dispatch deadline and does not stall other work', async () => {
    const q = new SqliteTaskQueue({ db: (dbs[dbs.length] = openDatabase(join(dir, 'hung.db'))), pollIntervalMs: 10, concurrency: 1 });
    let finished!: (p: TaskPayload) => void;
    const second = new Promise<TaskPayload>((resolve) => { finished = resolve; });
    q.register({
      name: 'kickoff',
      retry: DEFAULT_RETRY_POLICY,
      dispatchDeadlineSeconds: 0.05,
      handler: async (p) => {
        if (p['hang']) return new Promise<void>(() => {});
        finished(p);
      },
    });
    q.start();
    await q.enqueue('kickoff', { hang: true }, { id: 'hung' });
    await q.enqueue('kickoff', { hang: false }, { id: 'next' });
    await expect(second).resolves.toEqual({ hang: false });
    await q.stop();
    expect(q.inspect('kickoff', 'hung')).toMatchObject({ state: 'pending', retryCount: 1, lastError: expect.stringMatching(/dispatch deadline/) });
  });

  it('reports attempts that end without their outcome: a deadline before its retry, a lease run out after the last attempt', async () => {
    const lost: TaskLostEvent[] = [];
    const q = new SqliteTaskQueue({ db: (dbs[dbs.length] = openDatabase(join(dir, 'lost.db'))), pollIntervalMs: 10, onAttemptLost: async (e) => { lost.push(e); } });
    q.register({ name: 'processChunk', retry: DEFAULT_RETRY_POLICY, dispatchDeadlineSeconds: 0.05, handler: () => new Promise<void>(() => {}) });
    await q.enqueue('processChunk', { jobId: 'j', chunkId: 'c' }, { id: 'slow' });
    q.start();
    while (q.inspect('processChunk', 'slow')?.retryCount !== 1) await new Promise((r) => setTimeout(r, 10));
    await q.stop();
    expect(lost).toEqual([{ queue: 'processChunk', payload: { jobId: 'j', chunkId: 'c' }, taskId: 'slow', retryCount: 0, final: false, cause: 'deadline', deadlineSeconds: 0.05 }]);

    const reports: TaskLostEvent[] = [];
    const a = queue({ workerId: 'a' });
    const b = queue({ workerId: 'b', concurrency: 10, onAttemptLost: async (e) => { reports.push(e); } });
    for (const x of [a, b]) x.register(define('finalize', () => new Promise<void>(() => {}), 10));
    await a.enqueue('finalize', { jobId: 'j' }, { id: 'stuck' });
    void a.runDue();
    for (let i = 0; i < 6; i++) {
      now += 10_001;
      void b.runDue();
      await new Promise((r) => setImmediate(r));
    }
    // Reports go out once each claim's transaction is done (their hung handlers keep their slots).
    while (reports.length < 6) await new Promise((r) => setImmediate(r));
    expect(b.inspect('finalize', 'stuck')).toMatchObject({ state: 'dropped', retryCount: 5 });
    expect(reports.map((r) => [r.retryCount, r.final, r.cause])).toEqual([[0, false, 'unknown'], [1, false, 'unknown'], [2, false, 'unknown'], [3, false, 'unknown'], [4, false, 'unknown'], [5, true, 'unknown']]);
  });

  it('reports a worker death its handler runner saw, and a last attempt that threw', async () => {
    const reports: TaskLostEvent[] = [];
    const q = queue({ onAttemptLost: async (e) => { reports.push(e); } });
    q.register(define('kickoff', async (_p, c) => {
      if (c.retryCount === 0) throw attemptLost('out-of-memory', 'worker ran out of memory');
      throw new Error('store down');
    }));
    await q.enqueue('kickoff', { jobId: 'j' }, { id: 'k' });
    for (let i = 0; i <= 5; i++) {
      await q.runDue();
      now += 700_000;
    }
    await q.stop(); // waits for the reports in flight
    expect(q.inspect('kickoff', 'k')).toMatchObject({ state: 'dropped', retryCount: 5 });
    expect(reports.map((r) => [r.retryCount, r.final, r.cause, r.detail])).toEqual([[0, false, 'out-of-memory', undefined], [5, true, 'unrecorded', 'store down']]);
  });

  it('takes back at start the tasks of a worker whose process is gone, without counting an attempt', async () => {
    const q = queue({ workerId: 'restarted' });
    let ran = 0;
    q.register(define('processChunk', async (_p, c) => { ran += 1; expect(c.retryCount).toBe(0); }, 540));
    await q.enqueue('processChunk', { jobId: 'j' }, { id: 'victim' });
    const child = await leasingProcess('victim');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(q.inspect('processChunk', 'victim')).toMatchObject({ state: 'leased', retryCount: 0 });
    q.start();
    await q.stop();
    // Handed back at once, not after the 540 s lease, and the crash cost no attempt.
    expect(q.inspect('processChunk', 'victim')).toMatchObject({ state: 'pending', retryCount: 0, interruptions: 1, leaseOwner: null });
    expect(await q.runDue()).toBe(1);
    expect(ran).toBe(1);
    expect(dbs[0]?.prepare('SELECT COUNT(*) AS n FROM task_workers').get()).toEqual({ n: 0 });
  });

  it('leaves alone the leases of a worker whose process lives, and knows a reused pid by its start time', async () => {
    const q = queue({ workerId: 'second' });
    q.register(define('kickoff', async () => undefined));
    await q.enqueue('kickoff', {}, { id: 'held' });
    const child = await leasingProcess('held', currentProcess().startedAt === null ? null : 'not-its-start-time');
    try {
      q.reclaimFromGoneWorkers();
      if (currentProcess().startedAt === null) {
        expect(q.inspect('kickoff', 'held')).toMatchObject({ state: 'leased' });
      } else {
        // Its pid lives but started at another time: not the process that registered.
        expect(q.inspect('kickoff', 'held')).toMatchObject({ state: 'pending', interruptions: 1 });
      }
      const me = currentProcess();
      const db = dbs[0] as Database;
      db.prepare('INSERT INTO task_workers (worker_id, host, pid, process_started_at, started_at) VALUES (?, ?, ?, ?, 0)').run('alive', me.host, me.pid, me.startedAt);
      await q.enqueue('kickoff', {}, { id: 'mine' });
      db.prepare("UPDATE tasks SET state = 'leased', lease_owner = 'alive', lease_until = ? WHERE id = 'mine'").run(now + 60_000);
      expect(q.reclaimFromGoneWorkers()).toBe(0);
      expect(q.inspect('kickoff', 'mine')).toMatchObject({ state: 'leased', leaseOwner: 'alive' });
    } finally {
      child.kill('SIGKILL');
    }
  });

  it(`counts the ${MAX_INTERRUPTIONS + 1}th hand-back of a task as an attempt, so a task that kills its process ends`, async () => {
    const q = queue({ workerId: 'survivor' });
    q.register(define('kickoff', async () => undefined));
    await q.enqueue('kickoff', {}, { id: 'crasher' });
    for (let i = 0; i <= MAX_INTERRUPTIONS; i++) {
      const child = await leasingProcess('crasher');
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      q.reclaimFromGoneWorkers();
    }
    expect(q.inspect('kickoff', 'crasher')).toMatchObject({ state: 'pending', retryCount: 1, interruptions: MAX_INTERRUPTIONS, lastError: expect.stringMatching(/is gone during this task 4 times/) });
  });

  it('stop() with interruptOnStop hands running attempts back without counting them', async () => {
    const q = queue({ interruptOnStop: true });
    q.register(define('finalize', (_p, c) => new Promise<void>((_resolve, reject) => c.signal?.addEventListener('abort', () => reject(new Error('terminated'))))));
    await q.enqueue('finalize', {}, { id: 'long' });
    q.start();
    while (q.inspect('finalize', 'long')?.state !== 'leased') await new Promise((r) => setTimeout(r, 5));
    await q.stop();
    expect(q.inspect('finalize', 'long')).toMatchObject({ state: 'pending', retryCount: 0, interruptions: 1, lastError: null });
  });
});
