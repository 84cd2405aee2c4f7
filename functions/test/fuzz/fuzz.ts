/**
 * Property and fuzz runs with fast-check (issue 16). In `npm test` every property runs with a
 * fixed seed and a bounded number of cases, so the suite is fast and repeatable. `npm run fuzz`
 * (scripts/fuzz.js) runs the same properties again and again with random seeds until its time is
 * up: it sets `LIFEBOAT_FUZZ_DEADLINE` (epoch ms) and `LIFEBOAT_FUZZ_REPORT` (a file each
 * property appends its cases, seed and failures to, which the script adds up).
 */
import { appendFileSync } from 'node:fs';
import fc from 'fast-check';

/** The seed of every property in `npm test`. */
export const FIXED_SEED = 20_261_206;

const deadline = Number(process.env['LIFEBOAT_FUZZ_DEADLINE'] ?? 0);
/** True under `npm run fuzz`. */
export const fuzzing = deadline > 0;

/**
 * Runs `property` (sync or async) and fails the test with fast-check's report (seed, path,
 * counterexample) when a case fails. `runs` cases in `npm test`; under `npm run fuzz` as many as
 * fit in `shareOfTime` of the time left (default a tenth), with a random seed.
 */
export async function checkProperty<Ts extends [unknown, ...unknown[]]>(
  name: string,
  property: fc.IProperty<Ts> | fc.IAsyncProperty<Ts>,
  options: { runs?: number; shareOfTime?: number } = {},
): Promise<void> {
  const params: fc.Parameters<Ts> = fuzzing
    ? {
        seed: Math.floor(Math.random() * 0x7fffffff),
        numRuns: 1_000_000,
        interruptAfterTimeLimit: Math.max(1_000, (deadline - Date.now()) * (options.shareOfTime ?? 0.1)),
        markInterruptAsFailure: false,
      }
    : { seed: FIXED_SEED, numRuns: options.runs ?? 100 };
  const details = await fc.check(property as fc.IAsyncProperty<Ts>, params);
  const report = process.env['LIFEBOAT_FUZZ_REPORT'];
  if (report) {
    appendFileSync(report, `${JSON.stringify({ name, cases: details.numRuns, failed: details.failed, seed: details.seed })}\n`);
  }
  if (details.failed) throw new Error(`${name}: ${fc.defaultReportMessage(details)}`);
}
