/**
 * Schedules through the SDK against the embedded runtime: setSchedule / listSchedules /
 * deleteSchedule, and scheduled runs the dispatcher leaves `waiting_for_device` picked up and run
 * to completion by the device. The runtime's clock is injected and its scheduler loop is off: the
 * test advances time and calls the dispatcher itself.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dispatchDueSchedules } from '@lifeboat/engine/core';
import { silentLogger, type Clock } from '@lifeboat/engine/ports';
import { createToken } from '../../embedded/src/auth/tokens';
import { startEmbeddedRuntime, type EmbeddedRuntime } from '../../embedded/src/runtime';
import { BackupClientError, createBackupClient, type BackupSources } from '../src';

const SECRET = 'e2e-schedules';
const HOUR = 3_600_000;
let dir: string;
let runtime: EmbeddedRuntime;
let time = Date.UTC(2026, 0, 14, 9, 30);
const clock: Clock = { now: () => time };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-e2e-schedules-'));
  runtime = await startEmbeddedRuntime({ dataDir: dir, port: 0, logger: silentLogger, tokenSecret: SECRET, clock, schedulerIntervalMs: 0, gcAfterBackup: false });
});

afterAll(async () => {
  await runtime.stop();
  rmSync(dir, { recursive: true, force: true });
});

function device(uid: string, deviceId: string) {
  const token = createToken(SECRET, { uid, now: time, ttlSeconds: 30 * 24 * 3600 });
  return createBackupClient({ baseUrl: runtime.url, getToken: () => token, deviceId });
}

const sources: BackupSources = {
  contacts: Array.from({ length: 50 }, (_, i) => ({ id: `c${String(i).padStart(3, '0')}`, name: `Contact ${i}` })),
  deviceInfo: { model: 'Pixel 9', os: 'android', osVersion: '15', appVersion: '2.0.0', locale: 'en-GB' },
};

describe('schedules through the SDK', () => {
  it('sets, lists, replaces and deletes schedules, with typed errors for bad input', async () => {
    const phone = device('carol', 'carol-phone');
    const nightly = await phone.setSchedule({ kind: 'nightly', types: ['contacts'], timeZone: 'Europe/London' });
    expect(nightly).toMatchObject({ uid: 'carol', deviceId: 'carol-phone', kind: 'nightly', enabled: true, everyHours: null, cron: null });
    // 02:00 London time is 02:00 UTC in January: the next one after 09:30 is tomorrow's.
    expect(nightly.nextRunAt).toBe(Date.UTC(2026, 0, 15, 2, 0));

    const replaced = await phone.setSchedule({ scheduleId: nightly.id, kind: 'custom', cron: '30 3 * * 1-5', types: ['contacts', 'deviceInfo'], timeZone: 'UTC', enabled: false });
    expect(replaced).toMatchObject({ id: nightly.id, kind: 'custom', cron: '30 3 * * 1-5', enabled: false, createdAt: nightly.createdAt });
    expect((await phone.listSchedules()).map((s) => s.id)).toEqual([nightly.id]);

    await expect(phone.setSchedule({ kind: 'custom', types: ['contacts'], timeZone: 'UTC' })).rejects.toMatchObject({ code: 'backup/invalid-argument' });
    await expect(phone.setSchedule({ kind: 'nightly', types: ['contacts'], timeZone: 'Mars/Olympus' })).rejects.toMatchObject({ code: 'backup/invalid-argument' });
    // Another user's schedule is not reachable.
    await expect(device('mallory', 'm').deleteSchedule(nightly.id)).rejects.toBeInstanceOf(BackupClientError);

    await phone.deleteSchedule(nightly.id);
    expect(await phone.listSchedules()).toEqual([]);
    await expect(phone.deleteSchedule(nightly.id)).rejects.toMatchObject({ code: 'backup/not-found' });
  });

  it('runs the scheduled job the dispatcher created for this device, and only this device', async () => {
    const phone = device('dave', 'dave-phone');
    const tablet = device('dave', 'dave-tablet');
    const schedule = await phone.setSchedule({ kind: 'custom', everyHours: 6, types: ['contacts', 'deviceInfo'], options: { wifiOnly: false }, timeZone: 'Europe/Paris' });
    expect(schedule.nextRunAt).toBe(time + 6 * HOUR);

    expect((await dispatchDueSchedules(runtime.deps)).created).toEqual([]);
    time = schedule.nextRunAt + 1000;
    const { created } = await dispatchDueSchedules(runtime.deps);
    expect(created).toHaveLength(1);
    const jobId = created[0] as string;
    expect(await phone.getJob(jobId)).toMatchObject({ status: 'paused', pauseReason: 'waiting_for_device', trigger: 'custom', scheduleId: schedule.id });

    // The tablet is not the schedule's device: it leaves the run alone.
    expect(await tablet.resumePending({ sources })).toEqual([]);
    expect((await phone.getJob(jobId)).status).toBe('paused');

    // Told to leave scheduled runs alone, resumePending does.
    expect(await phone.resumePending({ sources, includeScheduled: false })).toEqual([]);
    const [run, ...others] = await phone.resumePending({ sources });
    expect(others).toEqual([]);
    expect(run).toMatchObject({ jobId, chunks: expect.any(Number) });
    const job = await phone.waitForJob(jobId, { intervalMs: 20 });
    expect(job).toMatchObject({ status: 'completed', trigger: 'custom', scheduleId: schedule.id, lastError: null });
    expect(job.progress.processedItems).toBe(51);

    // Nothing waits any more; the next slot makes a new run, since this one finished.
    expect(await phone.runPendingScheduled({ sources })).toEqual([]);
    time += 6 * HOUR;
    expect((await dispatchDueSchedules(runtime.deps)).created).toHaveLength(1);
    const [second] = await phone.runPendingScheduled({ sources });
    expect((await phone.waitForJob(second?.jobId as string, { intervalMs: 20 })).status).toBe('completed');
    // Unchanged data: the second scheduled run uploads nothing.
    expect(second?.bytesUploaded).toBe(0);
  });

  it('records a picked-up run in the ledger before starting it, so a failed start is resumed', async () => {
    const phone = device('erin', 'erin-phone');
    const schedule = await phone.setSchedule({ kind: 'custom', everyHours: 1, types: ['contacts', 'deviceInfo'], options: { wifiOnly: false }, timeZone: 'UTC' });
    time = schedule.nextRunAt;
    const [jobId] = (await dispatchDueSchedules(runtime.deps)).created;
    // The app forgot the contacts source: the run is taken from the waiting list but cannot start.
    await expect(phone.runPendingScheduled({ sources: { deviceInfo: sources.deviceInfo as NonNullable<BackupSources['deviceInfo']> } })).rejects.toMatchObject({ code: 'backup/invalid-argument' });
    expect((await phone.getJob(jobId as string)).pauseReason).toBeNull();
    // Next launch: the ledger still names it.
    const resumed = await phone.resumePending({ sources });
    expect(resumed.map((r) => r.jobId)).toEqual([jobId]);
    expect((await phone.waitForJob(jobId as string, { intervalMs: 20 })).status).toBe('completed');
  });
});
