/**
 * Faults for the runtime's task worker threads, loaded as `taskWorkerSetup` by the isolation and
 * crash tests (never by the runtime itself). Each fault is chosen by the user a job belongs to, so
 * one server holds misbehaving and well-behaved users at once:
 * - `spin*`: the contacts strategy busy-loops forever, as a hostile input to a quadratic parser;
 * - `last-attempt*`: processing a contacts chunk fails with a transient error on every attempt
 *   before the `LIFEBOAT_TEST_LAST_ATTEMPT`th, which writes `<uid>.last-attempt` in
 *   `LIFEBOAT_TEST_FAULTS` and hangs until its server is killed; once `<uid>.killed` exists it
 *   succeeds;
 * - `kill-in-gc*`: the GC run after the user's backup writes its lease, then `<uid>.in-gc`, and
 *   hangs (until `<uid>.killed` exists).
 * Markers are files, so the test process sees them and a restarted server remembers the kill.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lifeboatError, override, type EngineDeps } from '@lifeboat/engine/core';
import type { Strategy } from '@lifeboat/engine/strategies';

const never = () => new Promise<never>(() => {});

function marker(uid: string, name: string): string {
  const dir = process.env['LIFEBOAT_TEST_FAULTS'];
  if (!dir) throw new Error('LIFEBOAT_TEST_FAULTS names no folder');
  return join(dir, `${uid}.${name}`);
}

/** Counts calls per user and chunk across threads and restarts (a file each). */
function nextAttempt(uid: string, bytes: Uint8Array): number {
  const file = marker(uid, `${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}.attempts`);
  const n = (existsSync(file) ? Number(readFileSync(file, 'utf8')) : 0) + 1;
  writeFileSync(file, String(n));
  return n;
}

export function configureTaskWorker(deps: EngineDeps): EngineDeps {
  const real = deps.strategies.contacts as Strategy;
  const contacts: Strategy = {
    ...real,
    async processChunk(bytes, context) {
      if (context.uid.startsWith('spin')) for (;;);
      if (context.uid.startsWith('last-attempt') && !existsSync(marker(context.uid, 'killed'))) {
        const attempt = nextAttempt(context.uid, bytes);
        if (attempt < Number(process.env['LIFEBOAT_TEST_LAST_ATTEMPT'] ?? 3)) throw lifeboatError('unavailable', `fault: attempt ${attempt} fails`);
        writeFileSync(marker(context.uid, 'last-attempt'), String(attempt));
        return never();
      }
      return real.processChunk(bytes, context);
    },
  };
  const blobs = override(deps.blobs, {
    async put(key, body, options) {
      const result = await deps.blobs.put(key, body, options);
      const gc = /^leases\/(kill-in-gc[^/]*)\/gc\//.exec(key);
      if (gc?.[1] && !existsSync(marker(gc[1], 'killed'))) {
        writeFileSync(marker(gc[1], 'in-gc'), key);
        return never();
      }
      return result;
    },
  });
  return { ...deps, blobs, strategies: { ...deps.strategies, contacts } };
}
