import { parseCron } from '../../src/core/schedules/cron';
import { dispatchDueSchedules, scheduledJobId } from '../../src/core/schedules/dispatch';
import { nextRunAt } from '../../src/core/schedules/next-run';
import { zonedTimeToUtc } from '../../src/core/schedules/zoned-time';
import type { Schedule } from '../../src/core/model';
import { contactsChunk, createHarness, describeChunk } from '../fakes/engine-harness';

const iso = (t: number) => new Date(t).toISOString();
const timing = (kind: Schedule['kind'], timeZone: string, extra: Partial<Schedule> = {}) => ({ kind, timeZone, everyHours: null, cron: null, lastRunAt: null, createdAt: 0, ...extra });

describe('next run', () => {
  it('nightly is 02:00 local, the next day once today’s has passed', () => {
    expect(iso(nextRunAt(timing('nightly', 'Europe/London'), Date.parse('2026-06-10T00:30:00Z')))).toBe('2026-06-10T01:00:00.000Z');
    expect(iso(nextRunAt(timing('nightly', 'Europe/London'), Date.parse('2026-06-10T01:00:00Z')))).toBe('2026-06-11T01:00:00.000Z');
    expect(iso(nextRunAt(timing('nightly', 'Asia/Tokyo'), Date.parse('2026-06-10T00:00:00Z')))).toBe('2026-06-10T17:00:00.000Z');
  });

  it('handles DST: a missing 02:00 runs at the jump, a repeated hour runs once', () => {
    // New York springs forward at 02:00 on 8 March 2026: 02:00 does not exist, so 03:00 EDT.
    expect(iso(nextRunAt(timing('nightly', 'America/New_York'), Date.parse('2026-03-08T05:00:00Z')))).toBe('2026-03-08T07:00:00.000Z');
    // Falls back on 1 November 2026: 01:00-02:00 happens twice; 02:00 EST happens once.
    expect(iso(nextRunAt(timing('nightly', 'America/New_York'), Date.parse('2026-11-01T04:00:00Z')))).toBe('2026-11-01T07:00:00.000Z');
    // The first of two 01:30s is taken.
    expect(iso(zonedTimeToUtc(2026, 11, 1, 1, 30, 'America/New_York'))).toBe('2026-11-01T05:30:00.000Z');
    // London springs forward 01:00 -> 02:00 on 29 March 2026: 02:00 BST exists.
    expect(iso(nextRunAt(timing('nightly', 'Europe/London'), Date.parse('2026-03-29T00:00:00Z')))).toBe('2026-03-29T01:00:00.000Z');
  });

  it('weekly is Sunday 02:00 local', () => {
    // Wednesday 25 November 2026 -> Sunday 29 November.
    expect(iso(nextRunAt(timing('weekly', 'UTC'), Date.parse('2026-11-25T12:00:00Z')))).toBe('2026-11-29T02:00:00.000Z');
    expect(iso(nextRunAt(timing('weekly', 'UTC'), Date.parse('2026-11-29T02:00:00Z')))).toBe('2026-12-06T02:00:00.000Z');
  });

  it('every N hours runs from the last run, catching up at most one missed run', () => {
    const base = Date.parse('2026-01-01T00:00:00Z');
    const s = timing('custom', 'UTC', { everyHours: 6, lastRunAt: base });
    expect(iso(nextRunAt(s, base))).toBe('2026-01-01T06:00:00.000Z');
    expect(iso(nextRunAt(s, base + 3 * 86_400_000 + 60_000))).toBe('2026-01-04T06:00:00.000Z');
  });

  it('cron lines: weekdays 09:30 in Tokyo, steps, lists, day-or-weekday', () => {
    const s = timing('custom', 'Asia/Tokyo', { cron: '30 9 * * 1-5' });
    // Friday 27 Nov 2026 10:00 JST -> Monday 30 Nov 09:30 JST (00:30Z).
    expect(iso(nextRunAt(s, Date.parse('2026-11-27T01:00:00Z')))).toBe('2026-11-30T00:30:00.000Z');
    expect(iso(nextRunAt(timing('custom', 'UTC', { cron: '*/15 * * * *' }), Date.parse('2026-01-01T00:07:00Z')))).toBe('2026-01-01T00:15:00.000Z');
    expect(iso(nextRunAt(timing('custom', 'UTC', { cron: '0 3 1 * 0' }), Date.parse('2026-11-25T00:00:00Z')))).toBe('2026-11-29T03:00:00.000Z');
    // Day of week 7 is Sunday, as 0 is: Wednesday 25 Nov 2026 -> Sunday 29 Nov.
    expect(iso(nextRunAt(timing('custom', 'UTC', { cron: '0 0 * * 7' }), Date.parse('2026-11-25T00:00:00Z')))).toBe('2026-11-29T00:00:00.000Z');
  });

  it.each(['* * * *', '60 * * * *', '0 24 * * *', '0 0 0 * *', 'x * * * *', '5-1 * * * *'])('refuses the cron line %j', (line) => {
    expect(() => parseCron(line)).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
  });

  it('a cron line that never runs is refused', () => {
    expect(() => nextRunAt(timing('custom', 'UTC', { cron: '0 0 31 2 *' }), 0)).toThrow(/never runs/);
  });
});

describe('schedule API and dispatcher', () => {
  const START = Date.parse('2026-11-25T12:00:00Z');

  async function setup() {
    const h = createHarness();
    h.clock.advance(START - h.clock.now());
    const notified: string[] = [];
    h.deps.notifier = { async notifyDevice(uid, deviceId, m) { notified.push(`${uid}/${deviceId}/${m.jobId}`); } };
    const { schedule } = await h.call('setSchedule', 'alice', { deviceId: 'phone', kind: 'nightly', types: ['contacts'], timeZone: 'Europe/London' });
    return { h, schedule, notified };
  }

  it('creates a schedule with its next run and lists and deletes it for its owner only', async () => {
    const { h, schedule } = await setup();
    expect(iso(schedule.nextRunAt)).toBe('2026-11-26T02:00:00.000Z');
    expect((await h.call('listSchedules', 'alice', {})).schedules.map((s) => s.id)).toEqual([schedule.id]);
    expect((await h.call('listSchedules', 'bob', {})).schedules).toEqual([]);
    await expect(h.call('deleteSchedule', 'bob', { scheduleId: schedule.id })).rejects.toMatchObject({ code: 'permission-denied' });
    // Bob naming Alice's schedule id sets a schedule of his own (ids are per user): Alice's is untouched.
    const bobs = await h.call('setSchedule', 'bob', { scheduleId: schedule.id, deviceId: 'p', kind: 'weekly', types: ['contacts'], timeZone: 'UTC' });
    expect(bobs.schedule).toMatchObject({ uid: 'bob', kind: 'weekly' });
    expect(bobs.schedule.id).not.toBe(schedule.id);
    expect(await h.store.getSchedule(schedule.id)).toEqual(schedule);
    await h.call('deleteSchedule', 'alice', { scheduleId: schedule.id });
    expect((await h.call('listSchedules', 'alice', {})).schedules).toEqual([]);
  });

  it.each([
    [{ kind: 'nightly', timeZone: 'Mars/Olympus' }, 'invalid-argument', /time zone/],
    [{ kind: 'custom', timeZone: 'UTC' }, 'invalid-argument', /exactly one of everyHours or cron/],
    [{ kind: 'custom', timeZone: 'UTC', cron: '0 0 0 * *' }, 'invalid-argument', /day of month/],
    [{ kind: 'nightly', timeZone: 'UTC', everyHours: 3 }, 'invalid-argument', /only for custom/],
    [{ kind: 'hourly', timeZone: 'UTC' }, 'invalid-argument', /kind/],
  ])('refuses %j', async (extra, code, message) => {
    const h = createHarness();
    await expect(h.call('setSchedule', 'alice', { deviceId: 'p', types: ['contacts'], ...extra })).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
    expect((await h.call('listSchedules', 'alice', {})).schedules).toEqual([]);
  });

  it('a due schedule creates one run waiting for the device, wakes it, and moves on; dispatching again adds nothing', async () => {
    const { h, schedule, notified } = await setup();
    expect((await dispatchDueSchedules(h.deps)).created).toEqual([]);
    h.clock.advance(schedule.nextRunAt - h.clock.now());
    const first = await dispatchDueSchedules(h.deps);
    const jobId = scheduledJobId(schedule.id, schedule.nextRunAt);
    expect(first.created).toEqual([jobId]);
    expect(await h.store.getJob(jobId)).toMatchObject({ status: 'paused', pauseReason: 'waiting_for_device', trigger: 'nightly', scheduleId: schedule.id });
    expect(notified).toEqual([`alice/phone/${jobId}`]);
    const after = await h.store.getSchedule(schedule.id);
    expect(after).toMatchObject({ activeJobId: jobId, lastRunAt: schedule.nextRunAt });
    expect(iso(after?.nextRunAt ?? 0)).toBe('2026-11-27T02:00:00.000Z');
    expect(await dispatchDueSchedules(h.deps)).toEqual({ created: [], skipped: [], expired: [] });
    expect(h.queue.pending.filter((t) => t.queue === 'kickoff')).toEqual([]);
  });

  it('is idempotent when a dispatcher died between creating the job and moving the schedule', async () => {
    const { h, schedule } = await setup();
    h.clock.advance(schedule.nextRunAt - h.clock.now());
    const jobId = scheduledJobId(schedule.id, schedule.nextRunAt);
    await dispatchDueSchedules(h.deps);
    // Put the schedule back as the dead dispatcher left it: job created, schedule not moved.
    await h.store.runTransaction(async (tx) => tx.setSchedule({ ...schedule, activeJobId: null }));
    const again = await dispatchDueSchedules(h.deps);
    expect(again.created).toEqual([jobId]);
    expect((await h.store.listJobs({ uid: 'alice' })).items.map((j) => j.id)).toEqual([jobId]);
  });

  it('the device runs the scheduled job to a snapshot; the next night creates the next run', async () => {
    const { h, schedule } = await setup();
    h.clock.advance(schedule.nextRunAt - h.clock.now());
    const [jobId] = (await dispatchDueSchedules(h.deps)).created as [string];
    await h.call('resumeBackup', 'alice', { jobId });
    const bytes = contactsChunk(['c1']);
    const chunk = describeChunk('contacts', bytes, 1);
    await h.call('registerChunks', 'alice', { jobId, chunks: [chunk] });
    const { uploadUrl } = await h.call('beginChunkUpload', 'alice', { jobId, chunkId: chunk.id });
    await h.upload(uploadUrl as string, bytes);
    await h.call('commitUpload', 'alice', { jobId, chunkCount: 1 });
    await h.drain();
    expect(await h.store.getJob(jobId)).toMatchObject({ status: 'completed', trigger: 'nightly' });
    h.clock.advance(86_400_000);
    expect((await dispatchDueSchedules(h.deps)).created).toHaveLength(1);
  });

  it('never runs two at once: a run still active makes the next slot skip', async () => {
    const { h, schedule } = await setup();
    h.clock.advance(schedule.nextRunAt - h.clock.now());
    const [jobId] = (await dispatchDueSchedules(h.deps)).created as [string];
    await h.call('resumeBackup', 'alice', { jobId }); // the device started, and is still uploading
    h.clock.advance(86_400_000);
    const next = await dispatchDueSchedules(h.deps);
    expect(next).toMatchObject({ created: [], skipped: [{ scheduleId: schedule.id, reason: 'overlap' }] });
    expect((await h.store.getSchedule(schedule.id))?.activeJobId).toBe(jobId);
  });

  it('after three days down, catches up one run only', async () => {
    const { h, schedule } = await setup();
    h.clock.advance(schedule.nextRunAt - h.clock.now() + 3 * 86_400_000 + 3_600_000);
    const result = await dispatchDueSchedules(h.deps);
    expect(result.created).toHaveLength(1);
    expect((await h.store.getSchedule(schedule.id))?.nextRunAt).toBeGreaterThan(h.clock.now());
    expect((await dispatchDueSchedules(h.deps)).created).toEqual([]);
  });

  it('a run the device never picked up fails after a day and the next run starts', async () => {
    const { h, schedule } = await setup();
    h.clock.advance(schedule.nextRunAt - h.clock.now());
    const [first] = (await dispatchDueSchedules(h.deps)).created as [string];
    h.clock.advance(86_400_000 + 60_000);
    const result = await dispatchDueSchedules(h.deps);
    expect(result.expired).toEqual([first]);
    expect(result.created).toHaveLength(1);
    expect(await h.store.getJob(first)).toMatchObject({ status: 'failed', lastError: { code: 'deadline-exceeded', step: 'schedule' } });
  });
});
