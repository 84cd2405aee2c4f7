/**
 * The runtime every function of this codebase runs on: the engine's dependencies plus the
 * cross-user queries of the schedules. The entry point chooses it (`useRuntime`): `index.ts` the
 * production one (runtime/production-backend.ts), the emulator codebase in the embedded workspace
 * its own over the embedded stores. It is built lazily on the first invocation and kept for the
 * life of the instance: params and secrets are readable only at run time, and one
 * Firestore/Storage client per instance keeps its connections warm.
 *
 * The function definitions (`../functions/*`) import only this module, never a backend, so the
 * deploy bundle holds no other backend and no import cycle.
 */
import type { AdminDeps, EngineDeps, StaleJobFinder } from '../../core';
import { lifeboatError } from '../../core/errors';

/** What the functions need beyond the engine's ports: the cross-user queries of the schedules. */
export interface FirebaseRuntime {
  deps: EngineDeps;
  /** The stale-job sweeper's query (core/steps/sweep-stale-jobs.ts). */
  findStaleJobs: StaleJobFinder;
  /** Users with a snapshot created at or after `since`, for the retention catch-up; at most `limit`. */
  findSnapshotOwners(since: number, limit: number): Promise<string[]>;
  /**
   * Users with a job that finished (completed, cancelled or failed) at or after `since`, for the
   * garbage collection run; at most `limit`. @default none found
   */
  findRecentJobOwners?(since: number, limit: number): Promise<string[]>;
  /** The admin surface's deps (the `adminDashboard` function, queue samples). @default none: 501 */
  admin?: AdminDeps;
  /** The uid of an ID token carrying the admin claim, null for any other. @default none admits */
  adminOf?(token: string): Promise<string | null>;
}

/** A runtime, or how to build one on first use. */
export type RuntimeSource = FirebaseRuntime | (() => FirebaseRuntime);

let source: RuntimeSource | null = null;
let built: FirebaseRuntime | null = null;

/**
 * Chooses the runtime every function uses from now on: the entry point calls it once at load
 * (with a factory, so nothing is built before the first invocation); a test calls it with its
 * own. `null` forgets it.
 */
export function useRuntime(next: RuntimeSource | null): void {
  source = next;
  built = null;
}

/**
 * The runtime of this instance; built on first use.
 *
 * @throws LifeboatError `failed-precondition` when no entry point chose one.
 */
export function getRuntime(): FirebaseRuntime {
  if (built) return built;
  if (!source) throw lifeboatError('failed-precondition', 'no Lifeboat runtime: the entry point must call useRuntime() before a function runs');
  built = typeof source === 'function' ? source() : source;
  return built;
}

export function getDeps(): EngineDeps {
  return getRuntime().deps;
}
