/**
 * The memory and timeout every deployed function gets, in one table. The wiring reads it (task
 * functions, callables, triggers, schedules, `downloadBlob`), and so do the `limits` bench, which
 * checks each step against 80 % of both (`npm run bench -- --only=limits`), and the media
 * strategy's memory budget (`production-backend.ts`). It imports nothing, so the bench can read it
 * without loading Firebase.
 *
 * Changing a figure here changes the deployment: measure first (docs/firebase.md, "Resources").
 */

/** Memory sizes Cloud Functions (2nd gen) accepts that Lifeboat uses. */
export type FunctionMemory = '256MiB' | '512MiB' | '1GiB' | '2GiB';

export interface FunctionResources {
  /** The instance's memory: its hard limit (the instance is killed past it). */
  readonly memory: FunctionMemory;
  /** The request (or dispatch) timeout. */
  readonly timeoutSeconds: number;
}

/** Keyed by the exported function's name; `callables` and `triggers` cover every function of their group. */
export const FUNCTION_RESOURCES = Object.freeze({
  callables: { memory: '256MiB', timeoutSeconds: 60 },
  triggers: { memory: '256MiB', timeoutSeconds: 60 },
  kickoffTask: { memory: '256MiB', timeoutSeconds: 60 },
  processChunkTask: { memory: '256MiB', timeoutSeconds: 540 },
  finalizeTask: { memory: '256MiB', timeoutSeconds: 540 },
  sourcePageTask: { memory: '256MiB', timeoutSeconds: 300 },
  dispatchTask: { memory: '256MiB', timeoutSeconds: 300 },
  maintenanceTask: { memory: '256MiB', timeoutSeconds: 540 },
  // Reads an attempt record and at most fails a job: the callables' size.
  deathCheckTask: { memory: '256MiB', timeoutSeconds: 60 },
  rewrapKeysTask: { memory: '256MiB', timeoutSeconds: 540 },
  downloadBlob: { memory: '256MiB', timeoutSeconds: 540 },
  dispatchSchedules: { memory: '256MiB', timeoutSeconds: 60 },
  sweepStaleJobs: { memory: '256MiB', timeoutSeconds: 300 },
  applyRetention: { memory: '256MiB', timeoutSeconds: 540 },
  collectGarbage: { memory: '256MiB', timeoutSeconds: 540 },
  adminDashboard: { memory: '256MiB', timeoutSeconds: 540 },
  sampleQueues: { memory: '256MiB', timeoutSeconds: 60 },
  onAccountDeleted: { memory: '256MiB', timeoutSeconds: 540 },
} as const satisfies Record<string, FunctionResources>);

export type FunctionGroup = keyof typeof FUNCTION_RESOURCES;

/**
 * RSS of an instance before its first step: `functions/lib/index.js` with firebase-admin's app,
 * Firestore, Storage, Messaging and Functions clients and sharp loaded (103.6 to 104.8 MiB in the
 * `limits` bench). Steps plan image decodes against memory less this (media-memory.ts).
 */
export const PRODUCTION_BASELINE_MIB = 105;

const MEMORY_MIB: Readonly<Record<FunctionMemory, number>> = Object.freeze({ '256MiB': 256, '512MiB': 512, '1GiB': 1024, '2GiB': 2048 });

/** A function's memory in MiB. */
export function memoryMiB(group: FunctionGroup): number {
  return MEMORY_MIB[FUNCTION_RESOURCES[group].memory];
}
