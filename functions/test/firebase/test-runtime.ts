import type { EngineDeps } from '../../src/core';
import { useRuntime, type FirebaseRuntime } from '../../src/firebase/runtime/firebase-runtime';

/**
 * Runs every function on `runtime` until called again (`null` forgets it). The finders default
 * to finding nothing, for tests that do not sweep.
 */
export function setDepsForTesting(runtime: (Partial<FirebaseRuntime> & { deps: EngineDeps }) | null): void {
  useRuntime(
    runtime && {
      findStaleJobs: async () => [],
      findSnapshotOwners: async () => [],
      ...runtime,
    },
  );
}
