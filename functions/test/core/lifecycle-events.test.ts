/**
 * Lifecycle events for the host app (core/events/with-lifecycle-events.ts) over the engine on
 * in-memory fakes: each committed state change raises its event once (a completed backup, a failed
 * one, a scheduled run waiting for its device, a snapshot whose health changed), nothing else
 * does, and a publisher that fails never fails the backup.
 */
import { dispatchDueSchedules, withLifecycleEvents } from '../../src/core';
import { jobEvents, snapshotEvents } from '../../src/core/events/with-lifecycle-events';
import { uploadKey } from '../../src/core/keys';
import { newJob } from '../../src/core/jobs';
import { BackupOptions } from '../../src/core/model';
import { LIFECYCLE_EVENT_TYPES, type LifecycleEvent, type Logger } from '../../src/ports';
import { contactsChunk, createHarness, describeChunk, type Harness } from '../fakes/engine-harness';

function withEvents(h: Harness, publish: (event: LifecycleEvent) => Promise<void> = async () => {}) {
  const events: LifecycleEvent[] = [];
  const warnings: string[] = [];
  const logger: Logger = { info: () => {}, warn: (m, f) => void warnings.push(`${m} ${JSON.stringify(f)}`), error: () => {} };
  h.deps.store = withLifecycleEvents(h.deps.store, { publish: async (e) => {
    events.push(e);
    await publish(e);
  } }, logger);
  return { events, warnings };
}

async function backup(h: Harness, ids: string[], corrupt = false) {
  const { job } = await h.call('createBackupJob', 'alice', { deviceId: 'phone-1', types: ['contacts'] });
  await h.drain();
  const bytes = contactsChunk(ids);
  const chunk = describeChunk('contacts', bytes, ids.length);
  await h.call('registerChunks', 'alice', { jobId: job.id, chunks: [chunk] });
  const { uploadUrl } = await h.call('beginChunkUpload', 'alice', { jobId: job.id, chunkId: chunk.id });
  await h.upload(uploadUrl as string, bytes);
  // Bytes that do not match the chunk's name: processing fails the job for good.
  if (corrupt) await h.blobs.put(uploadKey('alice', job.id, chunk.id), new TextEncoder().encode('{"id":"other"}\n'));
  await h.call('commitUpload', 'alice', { jobId: job.id, chunkCount: 1 });
  await h.drain();
  return (await h.store.getJob(job.id)) ?? job;
}

describe('lifecycle events', () => {
  it('a completed backup raises one completed event with its figures', async () => {
    const h = createHarness();
    const { events } = withEvents(h);
    const job = await backup(h, ['c1', 'c2', 'c3']);
    expect(job.status).toBe('completed');
    expect(events).toEqual([
      {
        type: LIFECYCLE_EVENT_TYPES.backupCompleted,
        subject: `backupJobs/${job.id}`,
        data: expect.objectContaining({ jobId: job.id, uid: 'alice', deviceId: 'phone-1', trigger: 'manual', types: ['contacts'], snapshotId: job.snapshotId, processedItems: 3, skippedItems: 0 }),
      },
    ]);
  });

  it('a failed backup raises one failed event naming the error', async () => {
    const h = createHarness();
    const { events } = withEvents(h);
    const job = await backup(h, ['c1'], true);
    expect(job.status).toBe('failed');
    expect(events).toEqual([{ type: LIFECYCLE_EVENT_TYPES.backupFailed, subject: `backupJobs/${job.id}`, data: expect.objectContaining({ jobId: job.id, error: expect.objectContaining({ code: job.lastError?.code, step: 'processChunk' }) }) }]);
  });

  it('a scheduled run parked for its device raises waitingForDevice', async () => {
    const h = createHarness();
    const { events } = withEvents(h);
    const { schedule } = await h.call('setSchedule', 'alice', { deviceId: 'phone-1', kind: 'nightly', types: ['contacts'], timeZone: 'Europe/London' });
    h.clock.advance(schedule.nextRunAt - h.clock.now() + 1000);
    const result = await dispatchDueSchedules(h.deps);
    expect(result.created).toHaveLength(1);
    expect(events).toEqual([{ type: LIFECYCLE_EVENT_TYPES.waitingForDevice, subject: expect.stringMatching(/^backupJobs\//), data: expect.objectContaining({ trigger: 'nightly', scheduleId: schedule.id, uid: 'alice' }) }]);
  });

  it('verify raises healthChanged when the health changes, not when it stays', async () => {
    const h = createHarness();
    const job = await backup(h, ['c1', 'c2']);
    const { events } = withEvents(h);
    const snapshotId = job.snapshotId as string;
    await h.call('verifySnapshot', 'alice', { snapshotId });
    expect(events).toEqual([{ type: LIFECYCLE_EVENT_TYPES.snapshotHealthChanged, subject: `snapshots/${snapshotId}`, data: expect.objectContaining({ snapshotId, ok: true, problems: 0, previous: null }) }]);
    await h.call('verifySnapshot', 'alice', { snapshotId });
    expect(events).toHaveLength(1);
    // A blob goes missing: the next verify finds a problem.
    for await (const info of h.blobs.list('users/alice/blobs/')) await h.blobs.delete(info.key);
    await h.call('verifySnapshot', 'alice', { snapshotId });
    expect(events[1]).toMatchObject({ type: LIFECYCLE_EVENT_TYPES.snapshotHealthChanged, data: { ok: false, previous: { ok: true, problems: 0 } } });
  });

  it('a publisher that fails is logged and never fails the backup', async () => {
    const h = createHarness();
    const { events, warnings } = withEvents(h, async () => {
      throw new Error('channel down');
    });
    const job = await backup(h, ['c1']);
    expect(job.status).toBe('completed');
    expect(events.map((e) => e.type)).toEqual([LIFECYCLE_EVENT_TYPES.backupCompleted]);
    expect(warnings).toEqual([expect.stringContaining('lifecycle event not published')]);
    expect(warnings[0]).toContain('channel down');
  });

  it('judges a change against what the transaction read; a write it did not read counts as one', () => {
    const base = newJob({ id: 'job-00000001', uid: 'alice', deviceId: 'd', types: ['contacts'], options: BackupOptions.parse({}), trigger: 'manual', scheduleId: null, status: 'queued', pauseReason: null }, 0);
    const completed = { ...base, status: 'completed' as const, finishedAt: 5 };
    expect(jobEvents(completed, completed)).toEqual([]);
    expect(jobEvents(undefined, completed).map((e) => e.type)).toEqual([LIFECYCLE_EVENT_TYPES.backupCompleted]);
    expect(jobEvents({ ...base, status: 'running' }, { ...base, status: 'paused', pauseReason: 'battery_low' })).toEqual([]);
    const waiting = { ...base, status: 'paused' as const, pauseReason: 'waiting_for_device' as const };
    expect(jobEvents(waiting, { ...waiting, updatedAt: 9 })).toEqual([]);
    const snapshot = { id: 's', uid: 'alice', jobId: 'j', deviceId: 'd', parentId: null, types: [], createdAt: 0, manifestRef: 'a'.repeat(64), totals: { items: 0, skippedItems: 0, chunks: 0, originalBytes: 0, storedBytes: 0 }, byType: {}, health: null };
    expect(snapshotEvents(undefined, snapshot)).toEqual([]);
  });
});
