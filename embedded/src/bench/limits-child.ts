/**
 * One half of one `limits` case, in its own process (limits.ts spawns it):
 * `node limits-child.js prepare|run CASE DIR`. For `run`, the production module set is loaded
 * first, as a Cloud Function instance loads `functions/lib/index.js` and its Firebase clients
 * before its first request; the last line of stdout is the result as JSON, with this process's
 * peak RSS (VmHWM) after the step.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { LIMIT_CASES } from './limits-cases';

/** What `run` prints on its last line. */
export interface ChildResult {
  /** RSS once the modules are loaded, before the step, MiB. */
  baselineMiB: number;
  /** Peak RSS of the process, MiB. */
  peakRssMiB: number;
  invocationsMs: number[];
  detail: string;
}

function statusMiB(field: 'VmRSS' | 'VmHWM'): number {
  const kb = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  return kb ? Number(kb) / 1024 : Number.NaN;
}

/** What a deployed instance loads: the functions' entry point and the Firebase clients it starts. */
function loadProductionModules(): void {
  const entry = require.resolve('@lifeboat/engine');
  const fromFunctions = createRequire(entry);
  for (const name of ['firebase-admin/app', 'firebase-admin/firestore', 'firebase-admin/functions', 'firebase-admin/messaging', 'firebase-admin/storage', '@google-cloud/storage', 'firebase-functions/v2/https', 'firebase-functions/v2/tasks']) {
    fromFunctions(name);
  }
  fromFunctions(entry);
  const { initializeApp } = fromFunctions('firebase-admin/app') as typeof import('firebase-admin/app');
  const app = initializeApp({ projectId: 'demo-lifeboat-limits' });
  (fromFunctions('firebase-admin/firestore') as typeof import('firebase-admin/firestore')).getFirestore(app);
  (fromFunctions('firebase-admin/storage') as typeof import('firebase-admin/storage')).getStorage(app).bucket('demo-lifeboat-limits');
  (fromFunctions('firebase-admin/messaging') as typeof import('firebase-admin/messaging')).getMessaging(app);
  (fromFunctions('firebase-admin/functions') as typeof import('firebase-admin/functions')).getFunctions(app);
}

async function main(): Promise<void> {
  const [phase, id, dir] = process.argv.slice(2);
  const found = LIMIT_CASES.find((c) => c.id === id);
  if (!found || !dir || (phase !== 'prepare' && phase !== 'run')) throw new Error(`usage: limits-child prepare|run CASE DIR (cases: ${LIMIT_CASES.map((c) => c.id).join(', ')})`);
  if (phase === 'prepare') {
    await found.prepare(dir);
    return;
  }
  loadProductionModules();
  const baselineMiB = statusMiB('VmRSS');
  const run = await found.run(dir);
  const result: ChildResult = { baselineMiB, peakRssMiB: statusMiB('VmHWM'), ...run };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`limits case failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
