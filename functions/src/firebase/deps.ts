/**
 * The engine's dependencies for the Cloud Functions, built lazily on the first invocation and kept
 * for the life of the instance (params and secrets are only readable at run time, and one
 * Firestore/Storage client per instance keeps its connections warm).
 *
 * Backends, chosen by the `LIFEBOAT_BACKEND` environment variable (not a param: see params.ts):
 * - `firebase` (default, production): Firestore, Cloud Storage, Cloud Tasks, FCM.
 * - `embedded`: the embedded runtime's SQLite store and folder blob store in `LIFEBOAT_DATA_DIR`,
 *   with Cloud Tasks still doing the queueing (the tasks emulator), so the functions run in the
 *   offline emulators where Firestore and Storage emulators cannot (embedded-backend.ts).
 */
import type { AdminDeps, EngineDeps, StaleJobFinder } from '../core';

/** What the functions need beyond the engine's ports: the two cross-user queries of the schedules. */
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

export const BACKENDS = ['firebase', 'embedded'] as const;
export type Backend = (typeof BACKENDS)[number];

/** The backend named by `LIFEBOAT_BACKEND`. @default 'firebase' */
export function backendOf(env: NodeJS.ProcessEnv = process.env): Backend {
  const value = env['LIFEBOAT_BACKEND'] ?? 'firebase';
  if (!(BACKENDS as readonly string[]).includes(value)) {
    throw new Error(`LIFEBOAT_BACKEND must be one of ${BACKENDS.join(', ')}, not ${JSON.stringify(value)}`);
  }
  return value as Backend;
}

let testRuntime: FirebaseRuntime | null = null;
let built: FirebaseRuntime | null = null;

/** The runtime of this instance; built on first use. */
export function getRuntime(): FirebaseRuntime {
  if (testRuntime) return testRuntime;
  if (!built) {
    // Required here, not imported: the backend that is not used is never loaded (the embedded one
    // is not even installed in the deployed bundle, and the production one opens clients).
    built =
      backendOf() === 'embedded'
        ? (require('./embedded-backend') as typeof import('./embedded-backend')).createEmbeddedRuntime()
        : (require('./production-backend') as typeof import('./production-backend')).createProductionRuntime();
  }
  return built;
}

export function getDeps(): EngineDeps {
  return getRuntime().deps;
}

/**
 * Test seam: every function uses `runtime` until called again with `null`. The finders default
 * to finding nothing, for tests that do not sweep.
 */
export function setDepsForTesting(runtime: (Partial<FirebaseRuntime> & { deps: EngineDeps }) | null): void {
  testRuntime = runtime && {
    findStaleJobs: async () => [],
    findSnapshotOwners: async () => [],
    ...runtime,
  };
}
