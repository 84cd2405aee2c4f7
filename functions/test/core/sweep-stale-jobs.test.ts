import { newJob } from '../../src/core/jobs';
import { BackupOptions } from '../../src/core/model';
import { planSweep, reconcileJobs, sweepStaleJobs, DEFAULT_ABANDON_AFTER_MS, DEFAULT_STALE_AFTER_MS } from '../../src/core/steps/sweep-stale-jobs';
import { contactsChunk, createHarness, describeChunk, type Harness } from '../fakes/engine-harness';
import { listingStaleJobFinder } from '../fakes/stale-job-finder';

const MIN = 60_000;

/** A started backup whose one chunk was uploaded but whose processing task was lost. */
async function runningWithLostTask(h: Harness, uid = 'alice') {
  const { job } = await h.call('createBackupJob', uid, { deviceId: 'phone-1', types: ['contacts'] });
  await h.drain(); // kickoff: the job is running
  const bytes = contactsChunk(['c1', 'c2']);
  const chunk = describeChunk('contacts', bytes, 2);
  await h.call('registerChunks', uid, { jobId: job.id, chunks: [chunk] });
  const { uploadUrl } = await h.call('beginChunkUpload', uid, { jobId: job.id, chunkId: chunk.id });
  await h.upload(uploadUrl as string, bytes);
  await h.call('commitUpload', uid, { jobId: job.id, chunkCount: 1 });
  h.queue.pending.length = 0; // the worker died before the task reached the queue
  return job.id;
}

describe('planSweep', () => {
  const base = newJob({ id: 'job-00000001', uid: 'alice', deviceId: 'phone-1', types: ['contacts'], options: BackupOptions.parse({}), trigger: 'manual', scheduleId: null, status: 'queued', pauseReason: null }, 0);
  it.each([
    ['queued', 29 * MIN, 'none'],
    ['queued', 30 * MIN, 'kickoff'],
    ['running', 31 * MIN, 'requeue'],
    ['running', 24 * 60 * MIN, 'fail'],
    ['queued', 25 * 60 * MIN, 'fail'],
    ['paused', 48 * 60 * MIN, 'none'],
    ['completed', 48 * 60 * MIN, 'none'],
  ] as const)('%s idle %d ms -> %s', (status, idle, action) => {
    expect(planSweep({ ...base, status, updatedAt: 0, pauseReason: status === 'paused' ? 'user' : null }, idle, DEFAULT_STALE_AFTER_MS, DEFAULT_ABANDON_AFTER_MS)).toBe(action);
  });
});

describe('sweepStaleJobs', () => {
  it('re-enqueues a running job\'s unprocessed chunk, and the job then completes', async () => {
    const h = createHarness();
    const jobId = await runningWithLostTask(h);
    const find = listingStaleJobFinder(h.store, () => ['alice']);
    expect(await sweepStaleJobs(h.deps, find)).toEqual({ kicked: [], requeued: [], failed: [] });
    h.clock.advance(31 * MIN);
    const result = await sweepStaleJobs(h.deps, find);
    expect(result.requeued).toEqual([{ jobId, chunks: 1, finalize: false }]);
    // A second sweep in the same window enqueues nothing new (same task ids).
    await sweepStaleJobs(h.deps, find);
    expect(h.queue.pending).toHaveLength(1);
    await h.drain();
    expect(await h.store.getJob(jobId)).toMatchObject({ status: 'completed', progress: { processedChunks: 1 } });
  });

  it('kicks off a queued job whose kickoff was lost', async () => {
    const h = createHarness();
    const { job } = await h.call('createBackupJob', 'bob', { deviceId: 'phone-1', types: ['contacts'] });
    h.queue.pending.length = 0;
    h.clock.advance(45 * MIN);
    const result = await sweepStaleJobs(h.deps, listingStaleJobFinder(h.store, () => ['bob']));
    expect(result.kicked).toEqual([job.id]);
    await h.drain();
    expect(await h.store.getJob(job.id)).toMatchObject({ status: 'running', attempts: 1 });
  });

  it('fails a job idle past the abandon bound with deadline-exceeded, once', async () => {
    const h = createHarness();
    const jobId = await runningWithLostTask(h);
    h.clock.advance(DEFAULT_ABANDON_AFTER_MS + MIN);
    const find = listingStaleJobFinder(h.store, () => ['alice']);
    expect((await sweepStaleJobs(h.deps, find)).failed).toEqual([jobId]);
    expect(await h.store.getJob(jobId)).toMatchObject({
      status: 'failed',
      lastError: { code: 'deadline-exceeded', step: 'sweeper', retrying: false },
    });
    expect(await sweepStaleJobs(h.deps, find)).toEqual({ kicked: [], requeued: [], failed: [] });
    expect(h.queue.pending).toHaveLength(0);
  });

  it('enqueues finalize for a running job whose chunks are all processed', async () => {
    const h = createHarness();
    const jobId = await runningWithLostTask(h);
    // Process the chunk, then lose the finalize task it enqueued.
    await h.queue.enqueue('processChunk', { jobId, chunkId: (await h.store.listChunks(jobId)).items[0]?.id ?? '' }, { id: 'manual' });
    const processOnly = h.definitions.filter((d) => d.name === 'processChunk');
    await h.queue.drain(processOnly).catch(() => undefined);
    h.queue.pending.length = 0;
    h.clock.advance(31 * MIN);
    const result = await sweepStaleJobs(h.deps, listingStaleJobFinder(h.store, () => ['alice']));
    expect(result.requeued).toEqual([{ jobId, chunks: 0, finalize: true }]);
    await h.drain();
    expect(await h.store.getJob(jobId)).toMatchObject({ status: 'completed' });
  });
});

describe('lost kickoffs (a crash between a job\'s creation and its kickoff)', () => {
  it('the sweeper enqueues a queued job\'s kickoff under its own id after kickoffAfterMs, never doubling one that exists', async () => {
    const h = createHarness();
    const { job: lost } = await h.call('createBackupJob', 'carol', { deviceId: 'phone-1', types: ['contacts'] });
    h.queue.pending.length = 0; // its kickoff never reached the queue
    h.queue.seen.clear();
    const { job: waiting } = await h.call('createBackupJob', 'carol', { deviceId: 'phone-2', types: ['contacts'] });
    const find = listingStaleJobFinder(h.store, () => ['carol']);
    h.clock.advance(4 * MIN);
    expect((await sweepStaleJobs(h.deps, find)).kicked).toEqual([]);
    h.clock.advance(2 * MIN);
    expect((await sweepStaleJobs(h.deps, find)).kicked.sort()).toEqual([lost.id, waiting.id].sort());
    // The waiting job's own kickoff was still queued: the same id was not taken twice.
    expect(h.queue.pending.map((t) => t.id).sort()).toEqual([`${lost.id}_kickoff_0`, `${waiting.id}_kickoff_0`].sort());
    await h.drain();
    expect(await h.store.getJob(lost.id)).toMatchObject({ status: 'running' });
  });

  it('a retried createBackupJob enqueues the lost kickoff again', async () => {
    const h = createHarness();
    const first = await h.call('createBackupJob', 'dave', { deviceId: 'p', types: ['contacts'], jobId: 'device-key-0001' });
    h.queue.pending.length = 0;
    h.queue.seen.clear();
    const again = await h.call('createBackupJob', 'dave', { deviceId: 'p', types: ['contacts'], jobId: 'device-key-0001' });
    expect(again.job.id).toBe(first.job.id);
    expect(h.queue.pending.map((t) => t.id)).toEqual([`${first.job.id}_kickoff_0`]);
    await h.drain();
    expect(await h.store.getJob(first.job.id)).toMatchObject({ status: 'running' });
  });

  it('reconcileJobs (a restart) re-enqueues every queued and running job\'s work under its first ids, once', async () => {
    const h = createHarness();
    const { job: queued } = await h.call('createBackupJob', 'erin', { deviceId: 'phone-1', types: ['contacts'] });
    h.queue.pending.length = 0;
    h.queue.seen.clear();
    const running = await runningWithLostTask(h, 'erin');
    h.queue.seen.clear(); // the restarted queue never saw the lost tasks
    const find = listingStaleJobFinder(h.store, () => ['erin']);
    const result = await reconcileJobs(h.deps, find, { before: h.clock.now() + 1 });
    expect(result.kicked).toEqual([queued.id]);
    expect(result.requeued).toEqual([{ jobId: running, chunks: 1, finalize: false }]);
    expect(await reconcileJobs(h.deps, find, { before: h.clock.now() + 1 })).toEqual({ kicked: [], requeued: [], failed: [] });
    await h.drain();
    expect(await h.store.getJob(running)).toMatchObject({ status: 'completed' });
    expect(await h.store.getJob(queued.id)).toMatchObject({ status: 'running' });
  });
});
