#!/usr/bin/env node
/**
 * `npm run fuzz [-- MINUTES]`: runs the property and fuzz tests (`*.fuzz.test.ts`) again and again
 * with random seeds for a set time (MINUTES, or LIFEBOAT_FUZZ_MINUTES; default 2), then prints the
 * cases tried and the failures per property. Exits non-zero when any case failed; a failure's
 * report (seed, path, counterexample) is in jest's output above the summary, and replays with
 * `fc.assert(property, { seed, path })`.
 */
const { spawnSync } = require('node:child_process');
const { mkdtempSync, readFileSync, existsSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const minutes = Number(process.argv[2] ?? process.env.LIFEBOAT_FUZZ_MINUTES ?? 2);
if (!(minutes > 0)) {
  console.error('usage: npm run fuzz [-- MINUTES]  (MINUTES > 0, default 2)');
  process.exit(2);
}
const started = Date.now();
const deadline = started + minutes * 60_000;
const dir = mkdtempSync(join(tmpdir(), 'lifeboat-fuzz-'));
const report = join(dir, 'report.ndjson');
let rounds = 0;
let jestFailed = false;
// Each round gives every property a share of the time left; rounds repeat until the time is up.
while (Date.now() < deadline - 15_000 || rounds === 0) {
  rounds += 1;
  const result = spawnSync('npx', ['jest', '--silent', '--testPathPatterns', '\\.fuzz\\.test\\.ts$'], {
    stdio: 'inherit',
    env: { ...process.env, LIFEBOAT_FUZZ_DEADLINE: String(deadline), LIFEBOAT_FUZZ_REPORT: report },
  });
  if (result.status !== 0) {
    jestFailed = true;
    break;
  }
}

const totals = new Map();
if (existsSync(report)) {
  for (const line of readFileSync(report, 'utf8').split('\n').filter(Boolean)) {
    const { name, cases, failed, seed } = JSON.parse(line);
    const t = totals.get(name) ?? { cases: 0, failures: 0, seeds: [] };
    t.cases += cases;
    if (failed) {
      t.failures += 1;
      t.seeds.push(seed);
    }
    totals.set(name, t);
  }
}
rmSync(dir, { recursive: true, force: true });
let cases = 0;
let failures = 0;
console.log(`\nfuzz: ${rounds} round(s) in ${((Date.now() - started) / 1000).toFixed(0)} s`);
for (const [name, t] of [...totals].sort(([a], [b]) => a.localeCompare(b))) {
  cases += t.cases;
  failures += t.failures;
  console.log(`  ${name}: ${t.cases} cases, ${t.failures} failures${t.seeds.length ? ` (seeds ${t.seeds.join(', ')})` : ''}`);
}
console.log(`cases tried: ${cases}, failures: ${failures}`);
process.exit(failures > 0 || jestFailed || cases === 0 ? 1 : 0);
