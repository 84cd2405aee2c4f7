/**
 * The memory, timeout and concurrency every deployed function group gets by default, in one table.
 * Each figure is the default of a param (`LIFEBOAT_<GROUP>_MEMORY_MIB`, `..._TIMEOUT_SECONDS`,
 * `..._CONCURRENCY`, config/resource-params.ts) that a project may override in
 * `functions/.env.<projectId>`; the runtime reads the deployed values, never these, where it
 * plans by them (the media memory budget, dispatch deadlines, in-task stop times). The `limits`
 * bench checks each step against 80 % of the defaults (`npm run bench -- --only=limits`). It
 * imports nothing, so the bench can read it without loading Firebase.
 *
 * `cpu` is not here: firebase-functions takes no expression for it, and the CLI gives a 2nd-gen
 * function 1 vCPU up to 2 GiB (2 at 4 and 8 GiB, 4 at 16, 8 at 32), which suits every group; a
 * fixed `cpu` in code would break a memory param of 4 GiB or more (Cloud Run wants 2 vCPU there).
 *
 * Changing a figure here changes the deployment: measure first (docs/firebase.md, "Resources").
 */

/** Memory sizes Cloud Functions (2nd gen) accepts that Lifeboat uses. */
export type FunctionMemory = '256MiB' | '512MiB' | '1GiB' | '2GiB';

/** How a function is triggered: Cloud Functions bounds the timeout by it (resource-limits.ts). */
export type FunctionKind = 'callable' | 'https' | 'event' | 'task' | 'schedule';

export interface FunctionResources {
  readonly kind: FunctionKind;
  /** The instance's memory: its hard limit (the instance is killed past it). */
  readonly memory: FunctionMemory;
  /** The request (or dispatch) timeout. */
  readonly timeoutSeconds: number;
  /** Requests one instance serves at once. Every step was measured alone in its instance. */
  readonly concurrency: number;
}

/**
 * Keyed by the exported function's name; `callables` and `triggers` cover every function of their
 * group. Every group's memory is 256 MiB and its concurrency 1: the `limits` bench found every
 * step's peak within 80 % of 256 MiB with the production module set loaded (docs/firebase.md,
 * "Resources", has the figures); a group with no large case there (callables, triggers, kickoff,
 * schedules) peaks near the 105 MiB baseline. Timeouts are set by the work, not by a measurement
 * of it: a step that can grow is cut into rounds that stop a margin before the timeout.
 */
export const FUNCTION_RESOURCES = Object.freeze({
  // Every call answers from a bounded read or write; work that grows runs as tasks (issue 9).
  callables: { kind: 'callable', memory: '256MiB', timeoutSeconds: 60, concurrency: 1 },
  // Enqueue one task each.
  triggers: { kind: 'event', memory: '256MiB', timeoutSeconds: 60, concurrency: 1 },
  kickoffTask: { kind: 'task', memory: '256MiB', timeoutSeconds: 60, concurrency: 1 },
  // limits bench: 200 MB video in parts 159.1 MiB, 48 MP JPEG 135.0 MiB, pixel bomb 138.2 MiB; <= 5 s.
  processChunkTask: { kind: 'task', memory: '256MiB', timeoutSeconds: 540, concurrency: 1 },
  finalizeTask: { kind: 'task', memory: '256MiB', timeoutSeconds: 540, concurrency: 1 },
  sourcePageTask: { kind: 'task', memory: '256MiB', timeoutSeconds: 300, concurrency: 1 },
  dispatchTask: { kind: 'task', memory: '256MiB', timeoutSeconds: 300, concurrency: 1 },
  // Rounds of cleanup and verify stop a minute before the timeout (core/maintenance.ts).
  maintenanceTask: { kind: 'task', memory: '256MiB', timeoutSeconds: 540, concurrency: 1 },
  // Reads an attempt record and at most fails a job: the callables' size.
  deathCheckTask: { kind: 'task', memory: '256MiB', timeoutSeconds: 60, concurrency: 1 },
  rewrapKeysTask: { kind: 'task', memory: '256MiB', timeoutSeconds: 540, concurrency: 1 },
  // limits bench: a 200 MB blob streamed at 146 to 189 MiB; 540 s for slow readers.
  downloadBlob: { kind: 'https', memory: '256MiB', timeoutSeconds: 540, concurrency: 1 },
  dispatchSchedules: { kind: 'schedule', memory: '256MiB', timeoutSeconds: 60, concurrency: 1 },
  sweepStaleJobs: { kind: 'schedule', memory: '256MiB', timeoutSeconds: 300, concurrency: 1 },
  applyRetention: { kind: 'schedule', memory: '256MiB', timeoutSeconds: 540, concurrency: 1 },
  // Each user's run stops a minute before the timeout (functions/schedules.ts).
  collectGarbage: { kind: 'schedule', memory: '256MiB', timeoutSeconds: 540, concurrency: 1 },
  adminDashboard: { kind: 'https', memory: '256MiB', timeoutSeconds: 540, concurrency: 1 },
  sampleQueues: { kind: 'schedule', memory: '256MiB', timeoutSeconds: 60, concurrency: 1 },
  // A 1st-gen Auth trigger (deletion of an account's data, in rounds that stop a minute before).
  onAccountDeleted: { kind: 'event', memory: '256MiB', timeoutSeconds: 540, concurrency: 1 },
} as const satisfies Record<string, FunctionResources>);

export type FunctionGroup = keyof typeof FUNCTION_RESOURCES;

/**
 * RSS of an instance before its first step: `functions/lib/index.js` with firebase-admin's app,
 * Firestore, Storage, Messaging and Functions clients and sharp loaded (103.6 to 104.8 MiB in the
 * `limits` bench). Steps plan image decodes against memory less this (media-memory.ts).
 */
export const PRODUCTION_BASELINE_MIB = 105;

const MEMORY_MIB: Readonly<Record<FunctionMemory, number>> = Object.freeze({ '256MiB': 256, '512MiB': 512, '1GiB': 1024, '2GiB': 2048 });

/** A function's default memory in MiB (the deployed value: resource-params.ts, `deployedResources`). */
export function memoryMiB(group: FunctionGroup): number {
  return MEMORY_MIB[FUNCTION_RESOURCES[group].memory];
}
