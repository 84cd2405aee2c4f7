/**
 * Deaths are recorded (docs/invariants.md, "Retries"): an attempt whose worker dies is noted by
 * the next attempt, a last attempt that dies is failed by its death check with the step, the
 * chunk and the cause, and a queue that sees a death reports it through onTaskLost. A dead worker
 * is played by a strategy whose promise never settles: like a killed instance, it records nothing.
 */
import { beginAttempt, DEATH_CHECK_MARGIN_SECONDS, deathCheckTaskId, DISPATCH_DEADLINE_SECONDS, lifeboatError, maxRetries, onTaskLost, type BackupJob, type ChunkRecord } from '../../src/core';
import type { Strategy } from '../../src/strategies/strategy';
import { STRATEGIES } from '../../src/strategies';
import { createHarness, type Harness } from '../fakes/engine-harness';
import { uploadedChunk } from '../firebase/uploaded-chunk';

const LAST = maxRetries();

/** Replaces the contacts strategy: each call runs the next behaviour, then the real strategy. */
function scriptContacts(h: Harness, script: Array<'die' | 'fail' | ((jobId: string) => Promise<void>)>) {
  const real = STRATEGIES.contacts as Strategy;
  const calls = { count: 0 };
  const contacts: Strategy = {
    ...real,
    async processChunk(bytes, context) {
      const next = script[calls.count++];
      if (next === 'die') return new Promise<never>(() => {});
      if (next === 'fail') throw lifeboatError('unavailable', 'storage hiccup');
      if (next) await next(context.jobId);
      return real.processChunk(bytes, context);
    },
  };
  h.deps.strategies = { ...STRATEGIES, contacts };
  return calls;
}

function attempt(h: Harness, queue: 'processChunk' | 'kickoff' | 'finalize', payload: Record<string, unknown>, retryCount: number, taskId = 't1') {
  const definition = h.definitions.find((d) => d.name === queue);
  if (!definition) throw new Error(`no ${queue}`);
  return definition.handler(payload, { queue, taskId, retryCount });
}

/** Lets a started attempt run up to where it hangs. */
const settle = () => new Promise((r) => setTimeout(r, 20));

async function chunkOf(h: Harness, jobId: string, chunkId: string): Promise<ChunkRecord> {
  const [chunk] = await h.store.runTransaction((tx) => tx.getChunks(jobId, [chunkId]));
  return chunk as ChunkRecord;
}

describe('an attempt whose worker dies', () => {
  it('is noted on the job by the next attempt, which then does the work', async () => {
    const h = createHarness();
    const { jobId, chunkId } = await uploadedChunk(h);
    let seen: BackupJob['lastError'] = null;
    scriptContacts(h, ['die', async (id) => { seen = (await h.store.getJob(id))?.lastError ?? null; }]);
    void attempt(h, 'processChunk', { jobId, chunkId }, 0);
    await settle();
    // Nothing of the dead attempt is on the job: it wrote nothing before it died.
    expect((await h.store.getJob(jobId))?.lastError).toBeNull();
    await attempt(h, 'processChunk', { jobId, chunkId }, 1);
    expect(seen).toMatchObject({ code: 'internal', step: 'processChunk', retrying: true });
    expect(seen!.message).toContain(`chunk=${chunkId}`);
    expect(seen!.message).toMatch(/attempt=1\]: worker died without recording an outcome: out of memory, timeout or crash/);
    expect((await chunkOf(h, jobId, chunkId)).attempt).toMatchObject({ task: 't1', retry: 0, outcome: 'died' });
    await h.drain();
    expect(await h.store.getJob(jobId)).toMatchObject({ status: 'completed', lastError: null });
  });

  it('is not taken for dead when it failed and said so', async () => {
    const h = createHarness();
    const { jobId, chunkId } = await uploadedChunk(h);
    let seen: BackupJob['lastError'] = null;
    scriptContacts(h, ['fail', async (id) => { seen = (await h.store.getJob(id))?.lastError ?? null; }]);
    await expect(attempt(h, 'processChunk', { jobId, chunkId }, 0)).rejects.toMatchObject({ code: 'unavailable' });
    expect((await chunkOf(h, jobId, chunkId)).attempt).toMatchObject({ task: 't1', retry: 0, outcome: 'failed' });
    await attempt(h, 'processChunk', { jobId, chunkId }, 1);
    expect(seen).toMatchObject({ code: 'unavailable', retrying: true, message: expect.stringContaining('storage hiccup') });
  });

  it('on the last attempt is failed by its death check with the step, the chunk and the cause', async () => {
    const h = createHarness();
    const { jobId, chunkId } = await uploadedChunk(h);
    h.queue.pending.length = 0;
    scriptContacts(h, ['die']);
    void attempt(h, 'processChunk', { jobId, chunkId }, LAST);
    await settle();
    expect((await chunkOf(h, jobId, chunkId)).attempt).toMatchObject({ task: 't1', retry: LAST, outcome: 'started' });
    expect(h.queue.pending).toEqual([
      expect.objectContaining({
        queue: 'deathCheck',
        id: deathCheckTaskId('t1', LAST),
        delaySeconds: DISPATCH_DEADLINE_SECONDS.processChunk + DEATH_CHECK_MARGIN_SECONDS,
        payload: expect.objectContaining({ jobId, chunkId, step: 'processChunk', taskId: 't1', retry: LAST }),
      }),
    ]);
    expect((await h.store.getJob(jobId))?.status).toBe('running');
    await h.drain();
    const job = await h.store.getJob(jobId);
    expect(job).toMatchObject({ status: 'failed', lastError: { code: 'internal', step: 'processChunk', retrying: false } });
    expect(job?.lastError?.message).toBe(`processChunk failed [job=${jobId}, chunk=${chunkId}, attempt=${LAST + 1}]: worker died on the last attempt: out of memory or timeout`);
    expect((await chunkOf(h, jobId, chunkId)).attempt).toMatchObject({ outcome: 'died', retry: LAST });
    // Delivered again, the check finds the death recorded and changes nothing.
    const payload = { jobId, chunkId, step: 'processChunk', taskId: 't1', retry: LAST, deadlineSeconds: 540 };
    await h.queue.enqueue('deathCheck', payload, { id: 'again' });
    await h.drain();
    expect(await h.store.getJob(jobId)).toEqual(job);
  });

  it('the death check of a last attempt that succeeded, or failed and said so, changes nothing', async () => {
    const ok = createHarness();
    const a = await uploadedChunk(ok);
    ok.queue.pending.length = 0;
    await attempt(ok, 'processChunk', { jobId: a.jobId, chunkId: a.chunkId }, LAST);
    expect((await chunkOf(ok, a.jobId, a.chunkId)).attempt).toMatchObject({ outcome: 'finished' });
    await ok.drain();
    expect(await ok.store.getJob(a.jobId)).toMatchObject({ status: 'completed', lastError: null });

    const failing = createHarness();
    const b = await uploadedChunk(failing);
    failing.queue.pending.length = 0;
    scriptContacts(failing, ['fail']);
    await attempt(failing, 'processChunk', { jobId: b.jobId, chunkId: b.chunkId }, LAST);
    const failed = await failing.store.getJob(b.jobId);
    expect(failed).toMatchObject({ status: 'failed', lastError: { code: 'unavailable', retrying: false } });
    await failing.drain();
    expect(await failing.store.getJob(b.jobId)).toEqual(failed);
  });

  it('a last attempt handed back by a restart and run again is not taken for a death', async () => {
    const h = createHarness();
    const { jobId, chunkId } = await uploadedChunk(h);
    let seen: BackupJob['lastError'] = null;
    scriptContacts(h, ['fail', 'die', async (id) => { seen = (await h.store.getJob(id))?.lastError ?? null; }]);
    await expect(attempt(h, 'processChunk', { jobId, chunkId }, LAST - 1)).rejects.toMatchObject({ code: 'unavailable' });
    void attempt(h, 'processChunk', { jobId, chunkId }, LAST);
    await settle();
    // The server died under it; the restarted queue hands the same attempt back, uncounted.
    await attempt(h, 'processChunk', { jobId, chunkId }, LAST);
    expect(seen).toMatchObject({ code: 'unavailable', message: expect.stringContaining('storage hiccup') });
    expect((await chunkOf(h, jobId, chunkId)).attempt).toMatchObject({ retry: LAST, outcome: 'finished' });
    await h.drain();
    expect(await h.store.getJob(jobId)).toMatchObject({ status: 'completed' });
  });

  it("a job step's record lives on the job: a kickoff that died on its last attempt fails the job", async () => {
    const h = createHarness();
    const { job } = await h.call('createBackupJob', 'alice', { deviceId: 'phone-1', types: ['contacts'] });
    h.queue.pending.length = 0;
    // What a kickoff's last attempt writes before its work; then its instance dies.
    await beginAttempt(h.deps, 'kickoff', { jobId: job.id }, { taskId: 'k', retryCount: LAST, last: true });
    expect((await h.store.getJob(job.id))?.stepAttempts).toEqual({ kickoff: expect.objectContaining({ task: 'k', retry: LAST, outcome: 'started' }) });
    await h.queue.enqueue('deathCheck', { jobId: job.id, step: 'kickoff', taskId: 'k', retry: LAST, deadlineSeconds: 60 });
    await h.drain();
    expect(await h.store.getJob(job.id)).toMatchObject({
      status: 'failed',
      lastError: { step: 'kickoff', retrying: false, message: `kickoff failed [job=${job.id}, attempt=${LAST + 1}]: worker died on the last attempt: out of memory or timeout` },
    });
  });
});

describe('onTaskLost (a queue that sees the death)', () => {
  it('notes a lost attempt with its cause at once, and the next attempt does not note it again', async () => {
    const h = createHarness();
    const { jobId, chunkId } = await uploadedChunk(h);
    await onTaskLost(h.deps, { queue: 'processChunk', payload: { jobId, chunkId }, taskId: 't1', retryCount: 0, final: false, cause: 'out-of-memory' });
    const noted = await h.store.getJob(jobId);
    expect(noted).toMatchObject({ status: 'running', lastError: { code: 'resource-exhausted', retrying: true, message: `processChunk failed [job=${jobId}, chunk=${chunkId}, attempt=1]: worker ran out of memory` } });
    // Reported twice (a redelivered report): once.
    h.clock.advance(1000);
    await onTaskLost(h.deps, { queue: 'processChunk', payload: { jobId, chunkId }, taskId: 't1', retryCount: 0, final: false, cause: 'out-of-memory' });
    await beginAttempt(h.deps, 'processChunk', { jobId, chunkId }, { taskId: 't1', retryCount: 1, last: false });
    expect(await h.store.getJob(jobId)).toEqual(noted);
  });

  it('fails the job after the last attempt, naming the deadline', async () => {
    const h = createHarness();
    const { jobId } = await uploadedChunk(h);
    await onTaskLost(h.deps, { queue: 'finalize', payload: { jobId }, taskId: 'f', retryCount: LAST, final: true, cause: 'deadline', deadlineSeconds: 540 });
    // The job is running and not finalized: the finalize step is not done.
    expect(await h.store.getJob(jobId)).toMatchObject({
      status: 'failed',
      lastError: { code: 'deadline-exceeded', step: 'finalize', message: `finalize failed [job=${jobId}, attempt=${LAST + 1}]: worker stopped at its 540 s dispatch deadline on the last attempt` },
      stepAttempts: { finalize: expect.objectContaining({ task: 'f', outcome: 'died' }) },
    });
  });

  it('never fails a job whose step is done (a reply lost after the work)', async () => {
    const h = createHarness();
    const { jobId, chunkId } = await uploadedChunk(h);
    await h.drain();
    expect((await h.store.getJob(jobId))?.status).toBe('completed');
    const before = await h.store.getJob(jobId);
    await onTaskLost(h.deps, { queue: 'processChunk', payload: { jobId, chunkId }, taskId: 't1', retryCount: LAST, final: true, cause: 'worker-exit' });
    expect(await h.store.getJob(jobId)).toEqual(before);
  });

  it('ignores a payload that names no step', async () => {
    const h = createHarness();
    await expect(onTaskLost(h.deps, { queue: 'processChunk', payload: { nope: 1 }, taskId: 'x', retryCount: 0, final: true, cause: 'unknown' })).resolves.toBeUndefined();
    await expect(onTaskLost(h.deps, { queue: 'deathCheck', payload: {}, taskId: 'x', retryCount: 0, final: true, cause: 'unknown' })).resolves.toBeUndefined();
  });
});
