import { newJob } from '../../src/core/jobs';
import { BackupOptions } from '../../src/core/model';
import { planSweep, sweepStaleJobs, DEFAULT_ABANDON_AFTER_MS, DEFAULT_STALE_AFTER_MS } from '../../src/core/steps/sweep-stale-jobs';
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
