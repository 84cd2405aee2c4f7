/**
 * `npm run bench -- --only=limits`: every case of limits-cases.ts against the memory and timeout
 * of the function that runs it in production (FUNCTION_RESOURCES). Each case is prepared in one
 * child process and measured in another, which loads the production module set first and runs
 * with Firebase's malloc settings (`functions/.env`). A case is within when its peak RSS is at
 * most 80 % of the function's memory and its longest invocation at most 80 % of its timeout.
 *
 * Times are this machine's: a 256 MiB Cloud Function gets a fraction of a vCPU, so CPU-bound
 * steps (image encodes) take several times longer there; the margin against the timeout is
 * printed so that factor can be read off.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FUNCTION_RESOURCES, memoryMiB } from '@lifeboat/engine/firebase/config/function-resources';
import { MALLOC_ENV } from '../malloc-tuning';
import type { ChildResult } from './limits-child';
import { LIMIT_CASES } from './limits-cases';

/** Share of the memory and of the timeout a case may use. */
export const LIMITS_HEADROOM = 0.8;

/**
 * The V8 heap limit a function of `memory` MiB runs with. Cloud Functions sets it from the memory
 * configuration for functions up to 2 GiB (above, it asks for NODE_OPTIONS); the fraction is not
 * documented: three quarters is assumed, which leaves room for buffers and native memory (sharp).
 */
export function heapLimitMiB(memory: number): number {
  return Math.floor(memory * 0.75);
}

function runChild(args: string[], env: NodeJS.ProcessEnv, execArgv: string[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...execArgv, join(__dirname, 'limits-child.js'), ...args], { stdio: ['ignore', 'pipe', 'inherit'], env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`limits child ${args.slice(0, 2).join(' ')} exited ${code}`))));
  });
}

/**
 * Runs the cases (all, or those whose id is in `only`) one after another and returns the report
 * lines; the last is `limits: N of M within`.
 */
export async function runLimits(only?: readonly string[]): Promise<string[]> {
  const cases = LIMIT_CASES.filter((c) => !only || only.includes(c.id));
  const unknown = (only ?? []).filter((id) => !LIMIT_CASES.some((c) => c.id === id));
  if (unknown.length > 0) throw new Error(`unknown limits case ${unknown.join(', ')}; cases: ${LIMIT_CASES.map((c) => c.id).join(', ')}`);
  const lines: string[] = [];
  let within = 0;
  for (const limitCase of cases) {
    const dir = mkdtempSync(join(tmpdir(), `lifeboat-limits-${limitCase.id}-`));
    const memory = memoryMiB(limitCase.fn);
    const timeout = FUNCTION_RESOURCES[limitCase.fn].timeoutSeconds;
    const head = `${limitCase.label} [${limitCase.fn}: ${memory} MiB, ${timeout} s]`;
    try {
      await runChild(['prepare', limitCase.id, dir], process.env);
      const out = await runChild(['run', limitCase.id, dir], { ...process.env, ...MALLOC_ENV }, [`--max-old-space-size=${heapLimitMiB(memory)}`]);
      const result = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as ChildResult;
      const longest = Math.max(0, ...result.invocationsMs) / 1000;
      const ok = result.peakRssMiB <= LIMITS_HEADROOM * memory && longest <= LIMITS_HEADROOM * timeout;
      if (ok) within += 1;
      const pct = (n: number, of: number) => `${Math.round((100 * n) / of)} %`;
      lines.push(
        `${ok ? 'within' : 'OVER  '}  ${head}: peak RSS ${result.peakRssMiB.toFixed(1)} MiB (${pct(result.peakRssMiB, memory)}; ${result.baselineMiB.toFixed(1)} MiB before the step), ` +
          `longest invocation ${longest.toFixed(1)} s (${pct(longest, timeout)}) of ${result.invocationsMs.length}; ${result.detail}`,
      );
    } catch (err) {
      lines.push(`FAILED  ${head}: ${(err as Error).message}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  lines.push(`limits: ${within} of ${cases.length} within`);
  return lines;
}
