/** The backup run's transitions (run-state.ts), on plain data. */
import { BackupClientError } from '../src/errors';
import { INITIAL_RUN_STATE, isFinal, next, type RunEvent, type RunState } from '../src/run-state';

const walk = (events: RunEvent[], from: RunState = INITIAL_RUN_STATE): RunState[] => {
  const states = [from];
  for (const event of events) states.push(next(states[states.length - 1] as RunState, event));
  return states;
};

describe('next(state, event)', () => {
  it('goes preparing, creating, registering, uploading, committing, done', () => {
    const states = walk([{ type: 'prepared' }, { type: 'created', jobId: 'j' }, { type: 'registered' }, { type: 'uploaded' }, { type: 'committed' }]);
    expect(states).toEqual([
      { kind: 'preparing' },
      { kind: 'creating' },
      { kind: 'registering', jobId: 'j', held: false },
      { kind: 'uploading', jobId: 'j', held: false },
      { kind: 'committing', jobId: 'j' },
      { kind: 'done', jobId: 'j' },
    ]);
    expect(states.map(isFinal)).toEqual([false, false, false, false, false, true]);
  });

  it.each(['registering', 'uploading'] as const)('pauses %s on a broken constraint and resumes the same step, held', (kind) => {
    const paused = next({ kind, jobId: 'j', held: false }, { type: 'constraint-broken', reason: 'battery_low' });
    expect(paused).toEqual({ kind: 'paused', jobId: 'j', reason: 'battery_low', resume: kind });
    expect(next(paused, { type: 'constraints-held' })).toEqual({ kind, jobId: 'j', held: true });
  });

  it('ends failed or aborted on an error, keeping the job id once there is one', () => {
    const error = new Error('boom');
    expect(next({ kind: 'preparing' }, { type: 'error', error, aborted: false })).toEqual({ kind: 'failed', jobId: null, error });
    expect(next({ kind: 'uploading', jobId: 'j', held: false }, { type: 'error', error, aborted: false })).toEqual({ kind: 'failed', jobId: 'j', error });
    expect(next({ kind: 'paused', jobId: 'j', reason: 'waiting_for_wifi', resume: 'uploading' }, { type: 'error', error, aborted: true })).toEqual({ kind: 'aborted', jobId: 'j', error });
  });

  it('refuses an event the state does not take, and any event once final, as backup/internal', () => {
    const refused = (state: RunState, event: RunEvent) => {
      try {
        next(state, event);
      } catch (err) {
        return err instanceof BackupClientError ? err.code : err;
      }
      return 'accepted';
    };
    expect(refused({ kind: 'preparing' }, { type: 'created', jobId: 'j' })).toBe('backup/internal');
    expect(refused({ kind: 'registering', jobId: 'j', held: false }, { type: 'uploaded' })).toBe('backup/internal');
    expect(refused({ kind: 'uploading', jobId: 'j', held: false }, { type: 'registered' })).toBe('backup/internal');
    expect(refused({ kind: 'creating' }, { type: 'constraint-broken', reason: 'user' })).toBe('backup/internal');
    expect(refused({ kind: 'paused', jobId: 'j', reason: 'user', resume: 'registering' }, { type: 'committed' })).toBe('backup/internal');
    expect(refused({ kind: 'done', jobId: 'j' }, { type: 'error', error: new Error('late'), aborted: false })).toBe('backup/internal');
  });
});
