/**
 * Fault injection for the offline emulator test (`LIFEBOAT_INJECT_FAULTS`): the first `count`
 * puts of content blobs (`users/{uid}/blobs/...`) fail with a transient `unavailable`, as a Cloud
 * Storage 503 would, so the test sees the tasks emulator retry a step. It lives in the emulator
 * codebase only; the deploy bundle has no such path (functions/test/firebase/bundle.test.ts).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { lifeboatError, override } from '@lifeboat/engine/core';
import type { BlobStore } from '@lifeboat/engine/ports';

/**
 * `blobs` with its first `count` content-blob puts failing. Each function runs in its own process
 * in the emulator, so the count lives in the data folder: `mkdir` of a numbered marker either
 * creates it (this put takes that fault) or finds it taken, atomically.
 */
export function withInjectedFaults(blobs: BlobStore, root: string, count: number): BlobStore {
  if (!(count > 0)) return blobs;
  const markers = join(root, 'injected-faults');
  mkdirSync(markers, { recursive: true });
  const takeFault = (): boolean => {
    for (let i = 0; i < count; i++) {
      try {
        mkdirSync(join(markers, String(i)));
        return true;
      } catch {
        // Taken by an earlier put: try the next marker.
      }
    }
    return false;
  };
  return override(blobs, {
    async put(key, body, options) {
      if (/^users\/[^/]+\/blobs\//.test(key) && takeFault()) {
        throw lifeboatError('unavailable', `injected fault: blob store unavailable [key=${key}]`);
      }
      return blobs.put(key, body, options);
    },
  });
}
