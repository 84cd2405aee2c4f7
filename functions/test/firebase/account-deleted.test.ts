/**
 * The Firebase Auth user-deleted trigger (a 1st-gen function beside the v2 ones) through
 * firebase-functions-test, over the engine on in-memory fakes: the deleted account's data goes,
 * another user's stays, a second delivery is harmless; and the stale-job sweeper's schedule
 * carries on a deletion left under way.
 */
import firebaseFunctionsTest from 'firebase-functions-test';
import * as functions from '../../src/index';
import { deletionKey, readDeletionState } from '../../src/core/deletion';
import { setDepsForTesting } from './test-runtime';
import { runStaleJobSweep } from '../../src/firebase/functions/schedules';
import { ACCOUNT_DELETED_TIMEOUT_SECONDS } from '../../src/firebase/functions/auth-triggers';
import { contactsChunk, createHarness, describeChunk, type Harness } from '../fakes/engine-harness';
import type { MemoryJobStore } from '../fakes/memory-job-store';

const fft = firebaseFunctionsTest({ projectId: 'demo-lifeboat' });
afterAll(() => fft.cleanup());
afterEach(() => setDepsForTesting(null));

async function backup(h: Harness, uid: string): Promise<string> {
  const bytes = contactsChunk([`${uid}-1`]);
  const chunk = describeChunk('contacts', bytes, 1);
  const { job } = await h.call('createBackupJob', uid, { deviceId: `${uid}-phone`, types: ['contacts'] });
  await h.call('registerChunks', uid, { jobId: job.id, chunks: [chunk] });
  const { uploadUrl } = await h.call('beginChunkUpload', uid, { jobId: job.id, chunkId: chunk.id });
  await h.upload(uploadUrl as string, bytes);
  await h.call('commitUpload', uid, { jobId: job.id, chunkCount: 1 });
  await h.drain();
  return job.id;
}

const holding = (h: Harness, uid: string) => (h.store as unknown as MemoryJobStore).dump().filter((line) => line.includes(uid));

describe('onAccountDeleted', () => {
  it('is a 1st-gen Auth trigger on user deletion with its own timeout and the master key secret', () => {
    const endpoint = (functions.onAccountDeleted as unknown as { __endpoint: Record<string, unknown> }).__endpoint;
    expect(endpoint).toMatchObject({ platform: 'gcfv1', eventTrigger: { eventType: 'providers/firebase.auth/eventTypes/user.delete' }, timeoutSeconds: expect.objectContaining({ name: 'LIFEBOAT_ON_ACCOUNT_DELETED_TIMEOUT_SECONDS' }) });
    expect(ACCOUNT_DELETED_TIMEOUT_SECONDS).toBe(540);
    expect(JSON.stringify(endpoint['secretEnvironmentVariables'])).toContain('LIFEBOAT_MASTER_KEY');
  });

  it('deletes the account\'s data and nothing else; a repeated event is harmless', async () => {
    const h = createHarness();
    h.deps.deletionSettleMs = 0;
    setDepsForTesting({ deps: h.deps });
    await backup(h, 'alice');
    await backup(h, 'bob');
    await h.call('registerDevice', 'alice', { deviceId: 'alice-phone', fcmToken: 'tok' });
    const bobBefore = holding(h, 'bob');
    const wrapped = fft.wrap(functions.onAccountDeleted as never) as unknown as (user: unknown) => Promise<void>;
    await wrapped(fft.auth.makeUserRecord({ uid: 'alice' }));
    expect(holding(h, 'alice')).toEqual([]);
    const objects: string[] = [];
    for await (const info of h.blobs.list('')) objects.push(info.key);
    expect(objects.filter((k) => k.includes('alice'))).toEqual([]);
    expect(holding(h, 'bob')).toEqual(bobBefore);
    await wrapped(fft.auth.makeUserRecord({ uid: 'alice' }));
    expect(holding(h, 'bob')).toEqual(bobBefore);
  });

  it('leaves a deletion that settles to the stale-job sweeper\'s schedule, which ends it', async () => {
    const h = createHarness();
    h.deps.deletionSettleMs = 5 * 60_000;
    setDepsForTesting({ deps: h.deps });
    await backup(h, 'alice');
    const wrapped = fft.wrap(functions.onAccountDeleted as never) as unknown as (user: unknown) => Promise<void>;
    await wrapped(fft.auth.makeUserRecord({ uid: 'alice' }));
    expect(await readDeletionState(h.blobs, 'alice')).toMatchObject({ reason: 'account-deleted' });
    await expect(h.call('createBackupJob', 'alice', { deviceId: 'p', types: ['contacts'] })).rejects.toMatchObject({ code: 'failed-precondition' });
    h.clock.advance(5 * 60_000);
    await runStaleJobSweep();
    expect(await h.blobs.exists(deletionKey('alice'))).toBe(false);
    await backup(h, 'alice');
  });
});
