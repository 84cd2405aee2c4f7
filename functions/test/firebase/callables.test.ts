/**
 * The callable functions through firebase-functions-test, over the engine on in-memory fakes
 * (injected with setDepsForTesting): auth, ownership, input validation, error mapping, and a
 * whole backup driven through the callables.
 */
import firebaseFunctionsTest from 'firebase-functions-test';
import { HttpsError } from 'firebase-functions/v2/https';
import * as functions from '../../src/index';
import { API_HANDLERS, type ApiName } from '../../src/core/api';
import { override } from '../../src/core/override';
import { setDepsForTesting } from './test-runtime';
import { contactsChunk, createHarness, describeChunk, type Harness } from '../fakes/engine-harness';

const fft = firebaseFunctionsTest({ projectId: 'demo-lifeboat' });
afterAll(() => fft.cleanup());
afterEach(() => setDepsForTesting(null));

type Callable = (request: { data: unknown; auth?: { uid: string; token: Record<string, unknown> } }) => Promise<unknown>;

function call(name: ApiName, uid: string | null, data: unknown): Promise<any> {
  const wrapped = fft.wrap(functions[name] as never) as unknown as Callable;
  return wrapped({ data, ...(uid ? { auth: { uid, token: { uid, sub: uid } } } : {}) });
}

async function refusal(promise: Promise<unknown>): Promise<HttpsError> {
  const err = await promise.then(
    () => {
      throw new Error('expected the call to be refused');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HttpsError);
  return err as HttpsError;
}

const API_NAMES = Object.keys(API_HANDLERS) as ApiName[];

/** A completed backup and a schedule of alice's, for the ownership checks. */
async function alicesThings(h: Harness) {
  const bytes = contactsChunk(['c1', 'c2']);
  const chunk = describeChunk('contacts', bytes, 2);
  const { job } = await call('createBackupJob', 'alice', { deviceId: 'phone-1', types: ['contacts'] });
  await call('registerChunks', 'alice', { jobId: job.id, chunks: [chunk] });
  const { uploadUrl } = await call('beginChunkUpload', 'alice', { jobId: job.id, chunkId: chunk.id });
  await h.upload(uploadUrl, bytes);
  await call('commitUpload', 'alice', { jobId: job.id, chunkCount: 1 });
  await h.drain();
  const { schedule } = await call('setSchedule', 'alice', { deviceId: 'phone-1', kind: 'nightly', types: ['contacts'], timeZone: 'Europe/London' });
  const { job: done } = await call('getBackupJob', 'alice', { jobId: job.id });
  return { jobId: job.id as string, chunkId: chunk.id, snapshotId: done.snapshotId as string, scheduleId: schedule.id as string };
}

describe('callable functions', () => {
  it('export exactly the API handlers, as callable triggers', () => {
    for (const name of API_NAMES) {
      expect((functions[name] as { __endpoint?: { callableTrigger?: unknown } }).__endpoint?.callableTrigger).toBeDefined();
    }
  });

  it.each(API_NAMES)('%s refuses a call without auth (unauthenticated), changing nothing', async (name) => {
    const h = createHarness();
    setDepsForTesting({ deps: h.deps });
    const err = await refusal(call(name, null, { jobId: 'job-00000001' }));
    expect(err.code).toBe('unauthenticated');
    expect(err.details).toMatchObject({ code: 'unauthenticated' });
    expect((await h.store.listJobs({ uid: 'alice' })).items).toEqual([]);
  });

  it.each(API_NAMES)('%s refuses malformed input (invalid-argument with a readable message)', async (name) => {
    setDepsForTesting({ deps: createHarness().deps });
    const err = await refusal(call(name, 'alice', { unexpected: true }));
    expect(err.code).toBe('invalid-argument');
    expect(err.message).toContain(name);
    expect(err.message).toMatch(/✖/); // z.prettifyError's marker
    expect(err.details).toMatchObject({ code: 'invalid-argument' });
  });

  it('refuses another user\'s job, chunk, snapshot and schedule', async () => {
    const h = createHarness();
    setDepsForTesting({ deps: h.deps });
    const { jobId, chunkId, snapshotId, scheduleId } = await alicesThings(h);
    const attempts: Array<[ApiName, unknown]> = [
      ['getBackupJob', { jobId }],
      ['registerChunks', { jobId, chunks: [describeChunk('contacts', contactsChunk(['x']), 1)] }],
      ['beginChunkUpload', { jobId, chunkId }],
      ['commitUpload', { jobId, chunkCount: 1 }],
      ['pauseBackup', { jobId, reason: 'user' }],
      ['resumeBackup', { jobId }],
      ['cancelBackup', { jobId }],
      ['retryBackup', { jobId }],
      ['getSnapshot', { snapshotId }],
      ['verifySnapshot', { snapshotId }],
      ['deleteSchedule', { scheduleId }],
      ['deleteSnapshot', { snapshotId }],
    ];
    const before = JSON.stringify(await h.store.getJob(jobId));
    for (const [name, data] of attempts) {
      const err = await refusal(call(name, 'bob', data));
      expect([name, ['permission-denied', 'not-found'].includes(err.code)]).toEqual([name, true]);
    }
    expect(JSON.stringify(await h.store.getJob(jobId))).toBe(before);
    expect(await h.store.getSchedule(scheduleId)).not.toBeNull();
    expect(await h.store.getSnapshot(snapshotId)).not.toBeNull();
    // Bob's listings hold none of alice's things.
    expect((await call('listBackupJobs', 'bob', {})).jobs).toEqual([]);
    expect((await call('listSnapshots', 'bob', {})).snapshots).toEqual([]);
    expect((await call('listSchedules', 'bob', {})).schedules).toEqual([]);
  });

  it('run a whole backup and its follow-ups for the owner', async () => {
    const h = createHarness();
    setDepsForTesting({ deps: h.deps });
    const { jobId, snapshotId, scheduleId } = await alicesThings(h);
    expect((await call('getBackupJob', 'alice', { jobId })).job).toMatchObject({ status: 'completed', uid: 'alice', progress: { processedItems: 2 } });
    expect((await call('listBackupJobs', 'alice', { status: 'completed' })).jobs.map((j: { id: string }) => j.id)).toEqual([jobId]);
    expect((await call('getSnapshot', 'alice', { snapshotId })).snapshot).toMatchObject({ id: snapshotId, jobId, uid: 'alice' });
    expect((await call('listSnapshots', 'alice', {})).snapshots).toHaveLength(1);
    expect((await call('verifySnapshot', 'alice', { snapshotId })).report).toMatchObject({ ok: true });
    expect((await call('listSchedules', 'alice', {})).schedules.map((s: { id: string }) => s.id)).toEqual([scheduleId]);
    expect(await call('deleteSchedule', 'alice', { scheduleId })).toEqual({ deleted: scheduleId });

    // Job control on a second job: pause, resume, cancel; a completed job cannot be retried.
    const { job } = await call('createBackupJob', 'alice', { deviceId: 'phone-1', types: ['contacts'] });
    await h.drain();
    expect((await call('pauseBackup', 'alice', { jobId: job.id, reason: 'battery_low' })).job).toMatchObject({ status: 'paused', pauseReason: 'battery_low' });
    expect((await call('resumeBackup', 'alice', { jobId: job.id })).job).toMatchObject({ status: 'running', pauseReason: null });
    expect((await call('cancelBackup', 'alice', { jobId: job.id })).job).toMatchObject({ status: 'cancelled' });
    const err = await refusal(call('retryBackup', 'alice', { jobId }));
    expect(err.code).toBe('failed-precondition');
    expect(err.details).toMatchObject({ code: 'failed-precondition' });
  });

  it('delete the caller\'s snapshot, then all their data, and nothing of another user\'s', async () => {
    const h = createHarness();
    h.deps.deletionSettleMs = 0;
    setDepsForTesting({ deps: h.deps });
    const { jobId, snapshotId } = await alicesThings(h);
    const bob = await call('createBackupJob', 'bob', { deviceId: 'bob-phone', types: ['contacts'] });
    expect(await call('deleteSnapshot', 'alice', { snapshotId })).toMatchObject({ snapshotId, deleted: true });
    expect((await call('listSnapshots', 'alice', {})).snapshots).toEqual([]);
    const { deletion } = await call('deleteMyData', 'alice', { confirm: true });
    expect(deletion).toMatchObject({ uid: 'alice', status: 'done' });
    expect(await h.store.getJob(jobId)).toBeNull();
    expect((await call('listSchedules', 'alice', {})).schedules).toEqual([]);
    expect((await call('getBackupJob', 'bob', { jobId: bob.job.id })).job).toMatchObject({ uid: 'bob' });
  });

  it('answers an unclassified error as internal, without its message', async () => {
    const h = createHarness();
    const broken = { ...h.deps, store: override(h.deps.store, { getJob: async () => { throw new Error('socket hang up at 10.0.0.7'); } }) };
    setDepsForTesting({ deps: broken });
    const err = await refusal(call('getBackupJob', 'alice', { jobId: 'job-00000001' }));
    expect(err.code).toBe('internal');
    expect(err.message).toBe('internal error');
  });
});
