/**
 * The states of one backup run and the transitions between them, as data: `next(state, event)`
 * is pure, and the driver (backup-runner.ts) performs each state's effect and feeds back the event
 * it ended with.
 *
 *   preparing ─prepared→ creating ─created→ registering ─registered→ uploading ─uploaded→ committing ─committed→ done
 *                                            │   ↑                     │   ↑
 *                             constraint-broken  constraints-held       (the same, between chunks)
 *                                            ↓   │                     ↓   │
 *                                        paused (resumes the step it interrupted)
 *
 * Any state but a final one ends in `failed` on an error and in `aborted` on the caller's abort.
 * (Watching the job the server then runs is the caller's: `watchJob`, `waitForJob`.)
 */
import { BackupClientError } from './errors';
import type { PauseReason } from './types';

/** The steps a run may be paused in (and resumes). */
export type PausableStep = 'registering' | 'uploading';

export type RunState =
  /** Checking the passphrase, building (hashing) and encrypting the chunks. */
  | { kind: 'preparing' }
  /** Creating (or, with the same id, finding) the job on the server and planning against it. */
  | { kind: 'creating' }
  /**
   * Registering the chunks. `held`: the device was just seen meeting the constraints (back from
   * a pause), so the step does not check them again before its first call.
   */
  | { kind: 'registering'; jobId: string; held: boolean }
  /** Uploading what the server lacks; `held` as for registering, before the next chunk. */
  | { kind: 'uploading'; jobId: string; held: boolean }
  /** Paused on the server while the device breaks a constraint; resumes `resume` once it holds. */
  | { kind: 'paused'; jobId: string; reason: PauseReason; resume: PausableStep }
  /** Telling the server every chunk is there; then saving the layouts and dropping the ledger entry. */
  | { kind: 'committing'; jobId: string }
  | { kind: 'done'; jobId: string }
  | { kind: 'failed'; jobId: string | null; error: unknown }
  | { kind: 'aborted'; jobId: string | null; error: unknown };

export type RunEvent =
  | { type: 'prepared' }
  | { type: 'created'; jobId: string }
  | { type: 'registered' }
  | { type: 'constraint-broken'; reason: PauseReason }
  | { type: 'constraints-held' }
  | { type: 'uploaded' }
  | { type: 'committed' }
  /** The step's effect threw: `aborted` tells the caller's abort from a failure. */
  | { type: 'error'; error: unknown; aborted: boolean };

export type FinalState = Extract<RunState, { kind: 'done' | 'failed' | 'aborted' }>;

export const INITIAL_RUN_STATE: RunState = { kind: 'preparing' };

export function isFinal(state: RunState): state is FinalState {
  return state.kind === 'done' || state.kind === 'failed' || state.kind === 'aborted';
}

function jobIdOf(state: RunState): string | null {
  return 'jobId' in state ? state.jobId : null;
}

/** Thrown for an event the state does not take: a bug in the driver, never the server's doing. */
function noTransition(state: RunState, event: RunEvent): BackupClientError {
  return new BackupClientError('backup/internal', `backup run: no transition from ${state.kind} on ${event.type}`, { details: { state: state.kind, event: event.type } });
}

/** The state after `event` in `state`. Final states take no event (`backup/internal`). */
export function next(state: RunState, event: RunEvent): RunState {
  if (isFinal(state)) throw noTransition(state, event);
  if (event.type === 'error') {
    const jobId = jobIdOf(state);
    return event.aborted ? { kind: 'aborted', jobId, error: event.error } : { kind: 'failed', jobId, error: event.error };
  }
  switch (state.kind) {
    case 'preparing':
      if (event.type === 'prepared') return { kind: 'creating' };
      break;
    case 'creating':
      if (event.type === 'created') return { kind: 'registering', jobId: event.jobId, held: false };
      break;
    case 'registering':
    case 'uploading':
      if (event.type === 'constraint-broken') return { kind: 'paused', jobId: state.jobId, reason: event.reason, resume: state.kind };
      if (state.kind === 'registering' && event.type === 'registered') return { kind: 'uploading', jobId: state.jobId, held: false };
      if (state.kind === 'uploading' && event.type === 'uploaded') return { kind: 'committing', jobId: state.jobId };
      break;
    case 'paused':
      if (event.type === 'constraints-held') return { kind: state.resume, jobId: state.jobId, held: true };
      break;
    case 'committing':
      if (event.type === 'committed') return { kind: 'done', jobId: state.jobId };
      break;
  }
  throw noTransition(state, event);
}
