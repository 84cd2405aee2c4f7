/**
 * Job and schedule ids are per user (issue 16 item 9): a user who takes another user's predictable
 * idempotency key (or schedule id) first neither blocks that user's backup nor sees their job.
 */
import { newJob } from '../../src/core/jobs';
import { BackupOptions } from '../../src/core/model';
import { dispatchDueSchedules, scheduledJobId } from '../../src/core/schedules/dispatch';
import { scopedJobId } from '../../src/core/scoped-ids';
import { createHarness } from '../fakes/engine-harness';

const KEY = 'nightly-2026-12-07-phone1';
const create = (uid: string, jobId?: string) => ({ deviceId: 'phone1', types: ['contacts'], ...(jobId !== undefined ? { jobId } : {}) });

describe('job ids are per user', () => {
  it("Mallory takes Alice's key first: Alice's create still works and returns her own job; Mallory never sees it", async () => {
    const h = createHarness();
    const mallorys = (await h.call('createBackupJob', 'mallory', create('mallory', KEY))).job;
    const alices = (await h.call('createBackupJob', 'alice', create('alice', KEY))).job;
    expect(alices.uid).toBe('alice');
    expect(alices.id).not.toBe(mallorys.id);
    // Idempotent for each of them, by the key or by the id a create returned.
    expect((await h.call('createBackupJob', 'alice', create('alice', KEY))).job).toEqual(alices);
    expect((await h.call('createBackupJob', 'alice', create('alice', alices.id))).job).toEqual(alices);
    expect((await h.call('createBackupJob', 'mallory', create('mallory', KEY))).job).toEqual(mallorys);
    // Mallory naming Alice's job id gets a job of her own, never Alice's.
    const probe = (await h.call('createBackupJob', 'mallory', create('mallory', alices.id))).job;
    expect(probe.uid).toBe('mallory');
    expect(probe.id).not.toBe(alices.id);
    await expect(h.call('getBackupJob', 'mallory', { jobId: alices.id })).rejects.toMatchObject({ code: 'permission-denied' });
    expect((await h.call('listBackupJobs', 'mallory', {})).jobs.map((j) => j.uid)).toEqual(['mallory', 'mallory']);
    // Alice's backup runs.
    expect((await h.store.getJob(alices.id))?.status).toBe('queued');
    await h.call('commitUpload', 'alice', { jobId: alices.id, chunkCount: 0 });
    await h.drain();
    expect((await h.store.getJob(alices.id))?.status).toBe('completed');
  });

  it('finds jobs stored under the key itself before ids were per user; a squatted old key does not block its owner', async () => {
    const h = createHarness();
    const old = (uid: string, id: string) => newJob({ id, uid, deviceId: 'phone1', types: ['contacts'], options: BackupOptions.parse({}), trigger: 'manual', scheduleId: null, status: 'queued', pauseReason: null }, 1);
    await h.store.createJob(old('alice', 'alice-old-key-1'));
    await h.store.createJob(old('mallory', 'squatted-key-1'));
    expect((await h.call('createBackupJob', 'alice', create('alice', 'alice-old-key-1'))).job.id).toBe('alice-old-key-1');
    expect((await h.call('getBackupJob', 'alice', { jobId: 'alice-old-key-1' })).job.uid).toBe('alice');
    const alices = (await h.call('createBackupJob', 'alice', create('alice', 'squatted-key-1'))).job;
    expect(alices).toMatchObject({ id: scopedJobId('alice', 'squatted-key-1'), uid: 'alice' });
    expect((await h.store.getJob('squatted-key-1'))?.uid).toBe('mallory');
  });

  it("a scheduled run whose id another user squatted runs under its owner's derived id", async () => {
    const h = createHarness();
    const { schedule } = await h.call('setSchedule', 'alice', { deviceId: 'phone1', kind: 'nightly', types: ['contacts'], timeZone: 'UTC' });
    const runId = scheduledJobId(schedule.id, schedule.nextRunAt);
    await h.store.createJob(newJob({ id: runId, uid: 'mallory', deviceId: 'x', types: ['contacts'], options: BackupOptions.parse({}), trigger: 'manual', scheduleId: null, status: 'queued', pauseReason: null }, 1));
    h.clock.advance(schedule.nextRunAt - h.clock.now());
    const { created } = await dispatchDueSchedules(h.deps);
    expect(created).toEqual([scopedJobId('alice', runId)]);
    expect(await h.store.getJob(created[0] as string)).toMatchObject({ uid: 'alice', scheduleId: schedule.id, pauseReason: 'waiting_for_device' });
    expect((await h.store.getSchedule(schedule.id))?.activeJobId).toBe(created[0]);
  });

  it("schedule ids are per user: Mallory's schedule under Alice's name blocks nothing, and each deletes their own", async () => {
    const h = createHarness();
    const set = (uid: string) => h.call('setSchedule', uid, { scheduleId: 'phone1nightly', deviceId: 'phone1', kind: 'nightly', types: ['contacts'], timeZone: 'UTC' });
    const mallorys = (await set('mallory')).schedule;
    const alices = (await set('alice')).schedule;
    expect(alices.uid).toBe('alice');
    expect(alices.id).not.toBe(mallorys.id);
    expect((await set('alice')).schedule.id).toBe(alices.id);
    expect((await h.call('deleteSchedule', 'alice', { scheduleId: 'phone1nightly' })).deleted).toBe(alices.id);
    expect(await h.store.getSchedule(mallorys.id)).toEqual(mallorys);
    await expect(h.call('deleteSchedule', 'alice', { scheduleId: mallorys.id })).rejects.toMatchObject({ code: 'permission-denied' });
  });
});
