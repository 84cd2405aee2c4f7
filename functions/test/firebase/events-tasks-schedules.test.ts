/**
 * The non-callable functions through their firebase-functions entry points: the job-created
 * trigger (CloudEvent built by hand: makeDocumentSnapshot is broken with firebase-admin 14), the
 * storage trigger (fft.wrap), the task functions (`.run(req)`, including the last attempt) and the
 * schedules (`.run()`), over the engine on in-memory fakes.
 */
import firebaseFunctionsTest from 'firebase-functions-test';
import type { Request } from 'firebase-functions/v2/tasks';
import * as functions from '../../src/index';
import { lifeboatError } from '../../src/core/errors';
import { uploadKey } from '../../src/core/keys';
import { override } from '../../src/core/override';
import { taskDefinitions } from '../../src/core/task-definitions';
import { API_HANDLERS } from '../../src/core/api';
import { newJob } from '../../src/core/jobs';
import { BackupOptions, type BackupJob, type Snapshot } from '../../src/core/model';
import { setDepsForTesting } from './test-runtime';
import { TASK_FUNCTION_NAMES, TASK_RETRY_CONFIG, TASK_TIMEOUT_SECONDS } from '../../src/firebase/config/task-queues';
import { deployedTaskTimeouts } from '../../src/firebase/config/resource-params';
import type { IntParam } from 'firebase-functions/params';
import { QUEUE_NAMES, type Logger, type TaskPayload } from '../../src/ports';
import { MemoryJobStore } from '../fakes/memory-job-store';
import { contactsChunk, createHarness, describeChunk, type Harness } from '../fakes/engine-harness';
import { listingStaleJobFinder } from '../fakes/stale-job-finder';
import { loadFunctionsEnv } from './function-env';
import { contactsStepsDie, uploadedChunk } from './uploaded-chunk';

loadFunctionsEnv();
const fft = firebaseFunctionsTest({ projectId: 'demo-lifeboat' });
afterAll(() => fft.cleanup());
afterEach(() => setDepsForTesting(null));

const MIN = 60_000;
const envName = (queue: string) => queue.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

function taskRequest(data: TaskPayload, id: string, retryCount = 0): Request<TaskPayload> {
  return { data, id, retryCount, executionCount: retryCount, queueName: 'q', scheduledTime: new Date(0).toISOString() };
}

/** A recording logger, to see what a task reports when it lets a task go. */
function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`), error: (m) => lines.push(`error ${m}`) };
}

describe('task functions', () => {
  it('one per engine queue, with the retry config and deadlines the engine expects', () => {
    const definitions = taskDefinitions(createHarness().deps);
    expect(Object.keys(TASK_FUNCTION_NAMES).sort()).toEqual([...QUEUE_NAMES].sort());
    for (const definition of definitions) {
      const fn = (functions as Record<string, unknown>)[TASK_FUNCTION_NAMES[definition.name]] as { __endpoint: Record<string, any> };
      expect(fn.__endpoint.taskQueueTrigger.retryConfig).toMatchObject({ ...TASK_RETRY_CONFIG });
      // The timeout is its param; its default, the .env value and the value read at run time are
      // the engine's deadline (which the task functions hand the engine: resource-params.test.ts).
      const timeout = fn.__endpoint.timeoutSeconds as IntParam;
      expect(timeout.name).toBe(`LIFEBOAT_${envName(definition.name)}_TIMEOUT_SECONDS`);
      expect(timeout.options.default).toBe(definition.dispatchDeadlineSeconds);
      expect(deployedTaskTimeouts()[definition.name]).toBe(definition.dispatchDeadlineSeconds);
      expect(TASK_TIMEOUT_SECONDS[definition.name]).toBe(definition.dispatchDeadlineSeconds);
      // Attempts in Cloud Tasks = the engine's retries + 1, so req.retryCount says "last attempt" exactly.
      expect(TASK_RETRY_CONFIG.maxAttempts).toBe(definition.retry.delaysSeconds.length + 1);
    }
  });

  it('kickoffTask starts a queued job', async () => {
    const h = createHarness();
    setDepsForTesting({ deps: h.deps });
    const { job } = await h.call('createBackupJob', 'alice', { deviceId: 'phone-1', types: ['contacts'] });
    await functions.kickoffTask.run(taskRequest({ jobId: job.id }, `${job.id}_kickoff_0`));
    expect(await h.store.getJob(job.id)).toMatchObject({ status: 'running', attempts: 1 });
  });

  it('processChunkTask and finalizeTask complete a backup', async () => {
    const h = createHarness();
    setDepsForTesting({ deps: h.deps });
    const { jobId, chunkId } = await uploadedChunk(h);
    h.queue.pending.length = 0;
    await functions.processChunkTask.run(taskRequest({ jobId, chunkId }, 't1'));
    expect(h.queue.pending.map((t) => t.queue)).toEqual(['finalize']);
    await functions.finalizeTask.run(taskRequest({ jobId }, 't2'));
    expect(await h.store.getJob(jobId)).toMatchObject({ status: 'completed', snapshotId: `snap_${jobId}` });
  });

  it('a transient failure throws (Cloud Tasks retries) until the last attempt, which fails the job and returns', async () => {
    const h = createHarness();
    const { jobId, chunkId } = await uploadedChunk(h);
    // Storage is down for every read of the upload.
    const blobs = override(h.deps.blobs, {
      get: async () => {
        throw lifeboatError('unavailable', 'storage is unavailable');
      },
    });
    setDepsForTesting({ deps: { ...h.deps, blobs } });
    for (let retry = 0; retry < TASK_RETRY_CONFIG.maxAttempts - 1; retry++) {
      await expect(functions.processChunkTask.run(taskRequest({ jobId, chunkId }, 't', retry))).rejects.toMatchObject({ code: 'unavailable' });
      expect(await h.store.getJob(jobId)).toMatchObject({ status: 'running', lastError: { code: 'unavailable', retrying: true, step: 'processChunk' } });
    }
    await expect(functions.processChunkTask.run(taskRequest({ jobId, chunkId }, 't', TASK_RETRY_CONFIG.maxAttempts - 1))).resolves.toBeUndefined();
    const failed = await h.store.getJob(jobId);
    expect(failed).toMatchObject({ status: 'failed', lastError: { code: 'unavailable', retrying: false, step: 'processChunk' } });
    expect(failed?.lastError?.message).toContain('attempt=6');
  });

  it('a permanent failure is recorded and returns on the first attempt', async () => {
    const h = createHarness();
    const { jobId, chunkId } = await uploadedChunk(h);
    // The uploaded object's bytes do not match the chunk's name.
    await h.blobs.delete(uploadKey('alice', jobId, chunkId));
    await h.blobs.put(uploadKey('alice', jobId, chunkId), contactsChunk(['other']));
    setDepsForTesting({ deps: h.deps });
    await expect(functions.processChunkTask.run(taskRequest({ jobId, chunkId }, 't', 0))).resolves.toBeUndefined();
    expect(await h.store.getJob(jobId)).toMatchObject({ status: 'failed', lastError: { retrying: false, step: 'processChunk' } });
  });

  it('a malformed payload is let go without a retry', async () => {
    const h = createHarness();
    const logger = recordingLogger();
    setDepsForTesting({ deps: { ...h.deps, logger } });
    await expect(functions.finalizeTask.run(taskRequest({ nope: 1 }, 't'))).resolves.toBeUndefined();
    expect(logger.lines.some((l) => l.startsWith('error'))).toBe(true);
  });

  it('a last attempt whose instance dies is failed by deathCheckTask after its deadline, naming step, chunk and cause', async () => {
    const h = createHarness();
    const { jobId, chunkId } = await uploadedChunk(h);
    h.queue.pending.length = 0;
    // The instance dies inside the step (out of memory, timeout): nothing after this runs.
    contactsStepsDie(h);
    setDepsForTesting({ deps: h.deps });
    void functions.processChunkTask.run(taskRequest({ jobId, chunkId }, 't', 5));
    await new Promise((r) => setTimeout(r, 20));
    const check = h.queue.pending.find((t) => t.queue === 'deathCheck');
    expect(check).toMatchObject({ id: 't_check_5', delaySeconds: TASK_TIMEOUT_SECONDS.processChunk + 60 });
    expect((await h.store.getJob(jobId))?.status).toBe('running');
    await functions.deathCheckTask.run(taskRequest(check?.payload ?? {}, check?.id ?? '', 0));
    expect(await h.store.getJob(jobId)).toMatchObject({
      status: 'failed',
      lastError: { step: 'processChunk', retrying: false, message: `processChunk failed [job=${jobId}, chunk=${chunkId}, attempt=6]: worker died on the last attempt: out of memory or timeout` },
    });
  });

  it('on the last attempt, a failure that cannot even be recorded is logged and let go', async () => {
    const h = createHarness();
    const { jobId, chunkId } = await uploadedChunk(h);
    const logger = recordingLogger();
    const down = async () => {
      throw lifeboatError('unavailable', 'database is unavailable');
    };
    const store = override(h.deps.store, { getJob: down, runTransaction: down });
    setDepsForTesting({ deps: { ...h.deps, store, logger } });
    await expect(functions.processChunkTask.run(taskRequest({ jobId, chunkId }, 't', 2))).rejects.toMatchObject({ code: 'unavailable' });
    await expect(functions.processChunkTask.run(taskRequest({ jobId, chunkId }, 't', 5))).resolves.toBeUndefined();
    expect(logger.lines.some((l) => l.includes('last attempt') && l.includes('death check'))).toBe(true);
  });
});

describe('onBackupJobCreated (Firestore onDocumentCreated)', () => {
  /** The event Firestore sends, as the handler sees it after firebase-functions decodes it. */
  function createdEvent(doc: unknown, jobId: string) {
    return {
      specversion: '1.0',
      id: `evt-${jobId}`,
      source: '//firestore.googleapis.com/projects/demo-lifeboat/databases/lifeboat',
      type: 'google.cloud.firestore.document.v1.created',
      time: new Date(0).toISOString(),
      location: 'nam5',
      project: 'demo-lifeboat',
      database: 'lifeboat',
      namespace: '(default)',
      document: `backupJobs/${jobId}`,
      params: { jobId },
      data: { id: jobId, exists: true, data: () => doc },
    } as never;
  }

  /** Deps whose store has no create hook: only the trigger starts jobs, as on Firestore. */
  function plainStore(h: Harness) {
    const store = new MemoryJobStore();
    const deps = { ...h.deps, store };
    setDepsForTesting({ deps });
    return { store, deps };
  }

  it('declares a document-created trigger on backupJobs/{jobId}, retried on failure', () => {
    const endpoint = (functions.onBackupJobCreated as unknown as { __endpoint: Record<string, any> }).__endpoint;
    expect(endpoint.eventTrigger).toMatchObject({
      eventType: 'google.cloud.firestore.document.v1.created',
      eventFilterPathPatterns: { document: 'backupJobs/{jobId}' },
      retry: true,
    });
  });

  it('enqueues the kickoff of a queued job once, and the job then runs', async () => {
    const h = createHarness();
    const { store, deps } = plainStore(h);
    const { job } = await API_HANDLERS.createBackupJob({ auth: { uid: 'alice' }, data: { deviceId: 'phone-1', types: ['contacts'] } }, deps);
    expect(h.queue.pending).toEqual([]);
    const event = createdEvent(await store.getJob(job.id), job.id);
    await functions.onBackupJobCreated.run(event);
    await functions.onBackupJobCreated.run(event); // a redelivered event: the same task id
    expect(h.queue.pending.map((t) => [t.queue, t.id])).toEqual([['kickoff', `${job.id}_kickoff_0`]]);
    await functions.kickoffTask.run(taskRequest(h.queue.pending[0]?.payload ?? {}, h.queue.pending[0]?.id ?? ''));
    expect(await store.getJob(job.id)).toMatchObject({ status: 'running' });
  });

  it('leaves a scheduled run waiting for its device alone, and ignores a document that does not parse', async () => {
    const h = createHarness();
    plainStore(h);
    const waiting = { ...newJob({ id: 's_sched0001_1', uid: 'alice', deviceId: 'phone-1', types: ['contacts'], options: BackupOptions.parse({}), trigger: 'nightly', scheduleId: 'sched0001', status: 'paused', pauseReason: 'waiting_for_device' }, 0) } as BackupJob;
    await functions.onBackupJobCreated.run(createdEvent(waiting, waiting.id));
    await functions.onBackupJobCreated.run(createdEvent({ id: 'job-broken1', status: 'queued' }, 'job-broken1'));
    expect(h.queue.pending).toEqual([]);
  });
});

describe('onChunkObjectFinalized (Cloud Storage onObjectFinalized)', () => {
  it('enqueues an uploaded chunk’s processing once, writing no document; ignores objects Lifeboat wrote', async () => {
    const h = createHarness();
    setDepsForTesting({ deps: h.deps });
    const { job } = await h.call('createBackupJob', 'alice', { deviceId: 'phone-1', types: ['contacts'] });
    await h.drain();
    const bytes = contactsChunk(['c1']);
    const chunk = describeChunk('contacts', bytes, 1);
    await h.call('registerChunks', 'alice', { jobId: job.id, chunks: [chunk] });
    const key = uploadKey('alice', job.id, chunk.id);
    await h.blobs.put(key, bytes);
    const wrapped = fft.wrap(functions.onChunkObjectFinalized) as unknown as (event: unknown) => Promise<void>;
    const object = (metadata: Record<string, string>) => ({
      data: { bucket: 'demo-lifeboat-uploads', name: key, size: String(bytes.byteLength), contentType: 'application/octet-stream', metadata },
    });
    // Lifeboat's own writes carry the adapter's tag and are not upload events.
    await wrapped(object({ 'lifeboat-written': 'true' }));
    expect(h.queue.pending).toEqual([]);
    const before = JSON.stringify([await h.store.getJob(job.id), (await h.store.listChunks(job.id)).items]);
    await wrapped(object({ lifeboat: 'chunk-upload', uid: 'alice', jobId: job.id, chunkId: chunk.id }));
    await wrapped(object({ lifeboat: 'chunk-upload', uid: 'alice', jobId: job.id, chunkId: chunk.id }));
    // The event writes nothing (the object says the bytes are there); its task id makes the repeat a no-op.
    expect(JSON.stringify([await h.store.getJob(job.id), (await h.store.listChunks(job.id)).items])).toBe(before);
    expect(h.queue.pending.map((t) => t.queue)).toEqual(['processChunk']);
    await h.drain();
    expect(await h.store.getJob(job.id)).toMatchObject({ status: 'running', progress: { processedChunks: 1, uploadedChunks: 1, bytesUploaded: bytes.byteLength } });
  });
});

describe('schedules', () => {
  it('dispatchSchedules starts a dispatch run that turns a due schedule into a job waiting for the device', async () => {
    const h = createHarness();
    setDepsForTesting({ deps: h.deps });
    const { schedule } = await h.call('setSchedule', 'alice', { deviceId: 'phone-1', kind: 'nightly', types: ['contacts'], timeZone: 'UTC' });
    await functions.dispatchSchedules.run({ scheduleTime: new Date(0).toISOString(), jobName: 'dispatch' } as never);
    await h.drain();
    expect((await h.store.listJobs({ uid: 'alice' })).items).toEqual([]);
    h.clock.advance(schedule.nextRunAt - h.clock.now() + MIN);
    await functions.dispatchSchedules.run({ scheduleTime: new Date(0).toISOString(), jobName: 'dispatch' } as never);
    // The scheduled function starts a dispatch run; its page and batch tasks dispatch the schedule.
    expect(h.queue.pending.map((t) => t.queue)).toEqual(['dispatch']);
    await h.drain();
    expect(await h.store.getJob(`s_${schedule.id}_${schedule.nextRunAt}`)).toMatchObject({ status: 'paused', pauseReason: 'waiting_for_device', scheduleId: schedule.id });
  });

  it('sweepStaleJobs re-enqueues lost work and fails an abandoned job, with the params\' bounds', async () => {
    const h = createHarness();
    const { jobId } = await uploadedChunk(h);
    h.queue.pending.length = 0;
    setDepsForTesting({ deps: h.deps, findStaleJobs: listingStaleJobFinder(h.store, () => ['alice']) });
    const sweep = () => functions.sweepStaleJobs.run({ scheduleTime: new Date(0).toISOString() } as never);
    h.clock.advance(29 * MIN); // LIFEBOAT_STALE_JOB_MINUTES=30 in functions/.env
    await sweep();
    expect(h.queue.pending).toEqual([]);
    h.clock.advance(2 * MIN);
    await sweep();
    expect(h.queue.pending.map((t) => t.queue)).toEqual(['processChunk']);
    h.queue.pending.length = 0;
    h.clock.advance(24 * 60 * MIN); // LIFEBOAT_ABANDON_JOB_HOURS=24
    await sweep();
    expect(await h.store.getJob(jobId)).toMatchObject({ status: 'failed', lastError: { code: 'deadline-exceeded', step: 'sweeper' } });
  });

  it('applyRetention forgets the snapshots the policy does not keep, for users with recent snapshots', async () => {
    const h = createHarness();
    const { jobId } = await uploadedChunk(h);
    await h.drain();
    const first = (await h.store.getSnapshot(`snap_${jobId}`)) as Snapshot;
    // Six snapshots an hour apart on one day: keep the 3 newest (the daily/weekly/monthly
    // newest is among them), forget the other 3.
    await h.store.runTransaction(async (tx) => {
      for (let i = 1; i <= 5; i++) tx.setSnapshot({ ...first, id: `snap_extra${i}`, createdAt: first.createdAt - i * 3_600_000 });
    });
    setDepsForTesting({
      deps: h.deps,
      findSnapshotOwners: async (since) =>
        ['alice', 'bob'].filter((uid) => uid === first.uid && first.createdAt >= since),
    });
    await functions.applyRetention.run({ scheduleTime: new Date(0).toISOString() } as never);
    const left = (await h.store.listSnapshots({ uid: 'alice', limit: 100 })).items.map((s) => s.id);
    expect(left).toEqual([first.id, 'snap_extra1', 'snap_extra2']);
  });

  it('applyRetention applies each user’s own policy, not the deployment default (regression)', async () => {
    const h = createHarness();
    const { jobId } = await uploadedChunk(h);
    await h.drain();
    const first = (await h.store.getSnapshot(`snap_${jobId}`)) as Snapshot;
    await h.store.runTransaction(async (tx) => {
      for (let i = 1; i <= 5; i++) tx.setSnapshot({ ...first, id: `snap_extra${i}`, createdAt: first.createdAt - i * 3_600_000 });
    });
    // The user asked to keep 10; the deployment default (keepLast 3) would forget 3 of the 6.
    await h.call('setRetentionPolicy', 'alice', { policy: { keepLast: 10, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 } });
    setDepsForTesting({ deps: h.deps, findSnapshotOwners: async () => ['alice'] });
    await functions.applyRetention.run({ scheduleTime: new Date(0).toISOString() } as never);
    const left = (await h.store.listSnapshots({ uid: 'alice', limit: 100 })).items.map((s) => s.id);
    expect(left).toHaveLength(6);
  });
});
