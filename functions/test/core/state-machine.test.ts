import { emptyProgress, JOB_STATUSES, type BackupJob, type JobStatus } from '../../src/core/model';
import { canTransition, transition, TRANSITIONS } from '../../src/core/state-machine';
import { LifeboatError } from '../../src/core/errors';

function job(status: JobStatus, overrides: Partial<BackupJob> = {}): BackupJob {
  return {
    id: 'job-00001', uid: 'alice', deviceId: 'd1', types: ['contacts'],
    options: { wifiOnly: true, minBatteryPercent: 20, requiresCharging: false, storageNotLow: true, compressMedia: true, mediaQuality: 75, maxMediaSizeMB: 500, incrementalOnly: false },
    trigger: 'manual', scheduleId: null, status, phase: 'pending', pauseReason: status === 'paused' ? 'user' : null,
    progress: emptyProgress(), attempts: 0, lastError: null, uploadCommitted: false, snapshotId: null,
    createdAt: 1, updatedAt: 1, startedAt: null, finishedAt: null, heartbeatAt: null, ...overrides,
  };
}

const LEGAL: Array<[JobStatus, JobStatus]> = [
  ['queued', 'running'], ['queued', 'paused'], ['queued', 'failed'], ['queued', 'cancelled'],
  ['running', 'paused'], ['running', 'completed'], ['running', 'failed'], ['running', 'cancelled'],
  ['paused', 'running'], ['paused', 'failed'], ['paused', 'cancelled'],
  ['failed', 'queued'], ['failed', 'cancelled'],
];

describe('job state machine', () => {
  const all = JOB_STATUSES.flatMap((from) => JOB_STATUSES.map((to) => [from, to] as [JobStatus, JobStatus]));
  const isLegal = (from: JobStatus, to: JobStatus) => LEGAL.some(([f, t]) => f === from && t === to);

  it('the table is exactly the documented legal set', () => {
    const fromTable = JOB_STATUSES.flatMap((from) => TRANSITIONS[from].map((to) => `${from}->${to}`)).sort();
    expect(fromTable).toEqual(LEGAL.map(([f, t]) => `${f}->${t}`).sort());
  });

  it.each(all.filter(([f, t]) => isLegal(f, t)))('allows %s -> %s', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
    const next = transition(job(from), to, 100, to === 'paused' ? { pauseReason: 'battery_low' } : {});
    expect(next.status).toBe(to);
    expect(next.updatedAt).toBe(100);
  });

  it.each(all.filter(([f, t]) => !isLegal(f, t)))('refuses %s -> %s with failed-precondition', (from, to) => {
    expect(canTransition(from, to)).toBe(false);
    const before = job(from);
    const snapshot = structuredClone(before);
    let caught: unknown;
    try {
      transition(before, to, 100, { pauseReason: 'user' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(LifeboatError);
    expect((caught as LifeboatError).code).toBe('failed-precondition');
    expect((caught as LifeboatError).message).toContain(`from ${from} to ${to}`);
    expect(before).toEqual(snapshot);
  });

  it('completed and cancelled are terminal', () => {
    expect(TRANSITIONS.completed).toEqual([]);
    expect(TRANSITIONS.cancelled).toEqual([]);
  });

  it('pausing needs a reason and leaving paused clears it', () => {
    expect(() => transition(job('running'), 'paused', 5)).toThrow(/needs a reason/);
    const paused = transition(job('running'), 'paused', 5, { pauseReason: 'waiting_for_wifi' });
    expect(paused.pauseReason).toBe('waiting_for_wifi');
    expect(transition(paused, 'running', 6).pauseReason).toBeNull();
  });

  it('queued -> running counts an attempt and stamps startedAt once', () => {
    const first = transition(job('queued'), 'running', 10);
    expect(first).toMatchObject({ attempts: 1, startedAt: 10, finishedAt: null });
    const failed = transition(first, 'failed', 20);
    expect(failed.finishedAt).toBe(20);
    const second = transition(transition(failed, 'queued', 30), 'running', 40);
    expect(second).toMatchObject({ attempts: 2, startedAt: 10, finishedAt: null });
  });

  it('completing sets phase done, finishedAt, and clears lastError', () => {
    const running = job('running', { lastError: { code: 'unavailable', message: 'x', step: 'processChunk', at: 1, retrying: true } });
    const done = transition(running, 'completed', 50, { snapshotId: 'snap_1' });
    expect(done).toMatchObject({ phase: 'done', finishedAt: 50, lastError: null, snapshotId: 'snap_1' });
  });
});
