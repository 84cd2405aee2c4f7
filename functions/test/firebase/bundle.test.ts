/**
 * The deploy artifact as Cloud Build sees it: functions/ built, copied alone (minus firebase.json's
 * `ignore`) to an empty folder outside the workspace, production dependencies installed from the
 * npm registry, then loaded in a fresh Node process that lists every exported function with its
 * trigger from `__endpoint`. Skips, saying so, when the registry cannot be reached.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';

const REPO = join(__dirname, '..', '..', '..');
const FUNCTIONS = join(REPO, 'functions');
const REGISTRY = 'https://registry.npmjs.org/';

/** Every function the deployment must create, with its trigger kind. */
const EXPECTED: Record<string, string> = {
  createBackupJob: 'callableTrigger',
  deleteSnapshot: 'callableTrigger',
  deleteMyData: 'callableTrigger',
  onAccountDeleted: 'eventTrigger',
  getBackupJob: 'callableTrigger',
  listBackupJobs: 'callableTrigger',
  registerChunks: 'callableTrigger',
  beginChunkUpload: 'callableTrigger',
  commitUpload: 'callableTrigger',
  pauseBackup: 'callableTrigger',
  resumeBackup: 'callableTrigger',
  cancelBackup: 'callableTrigger',
  retryBackup: 'callableTrigger',
  getSnapshot: 'callableTrigger',
  listSnapshots: 'callableTrigger',
  verifySnapshot: 'callableTrigger',
  getRestorePlan: 'callableTrigger',
  setSchedule: 'callableTrigger',
  listSchedules: 'callableTrigger',
  deleteSchedule: 'callableTrigger',
  getRetentionPolicy: 'callableTrigger',
  setRetentionPolicy: 'callableTrigger',
  registerDevice: 'callableTrigger',
  collectGarbage: 'scheduleTrigger',
  downloadBlob: 'httpsTrigger',
  getEndToEndParams: 'callableTrigger',
  initEndToEndParams: 'callableTrigger',
  changeEndToEndParams: 'callableTrigger',
  onBackupJobCreated: 'eventTrigger',
  onChunkObjectFinalized: 'eventTrigger',
  kickoffTask: 'taskQueueTrigger',
  processChunkTask: 'taskQueueTrigger',
  finalizeTask: 'taskQueueTrigger',
  sourcePageTask: 'taskQueueTrigger',
  dispatchTask: 'taskQueueTrigger',
  maintenanceTask: 'taskQueueTrigger',
  deathCheckTask: 'taskQueueTrigger',
  rewrapKeysTask: 'taskQueueTrigger',
  dispatchSchedules: 'scheduleTrigger',
  sweepStaleJobs: 'scheduleTrigger',
  applyRetention: 'scheduleTrigger',
  sampleQueues: 'scheduleTrigger',
  adminDashboard: 'httpsTrigger',
};

/** Whether a path (relative to functions/) is left out by firebase.json's `ignore` globs. */
function ignored(path: string, patterns: string[]): boolean {
  const parts = path.split(sep);
  return patterns.some((pattern) => {
    if (pattern.startsWith('*.')) return path.endsWith(pattern.slice(1));
    return parts[0] === pattern || path === pattern;
  });
}

async function registryReachable(): Promise<boolean> {
  try {
    const response = await fetch(`${REGISTRY}zod`, { method: 'HEAD', signal: AbortSignal.timeout(10_000) });
    return response.ok;
  } catch {
    return false;
  }
}

const LIST_ENDPOINTS = `
  const mod = require(process.cwd());
  const kinds = ['httpsTrigger', 'callableTrigger', 'eventTrigger', 'taskQueueTrigger', 'scheduleTrigger', 'blockingTrigger'];
  const out = {};
  for (const [name, fn] of Object.entries(mod)) {
    const endpoint = fn && fn.__endpoint;
    if (!endpoint) continue;
    const kind = kinds.find((k) => endpoint[k] !== undefined);
    const trigger = endpoint[kind];
    out[name] = {
      kind,
      detail: kind === 'eventTrigger' ? trigger.eventType + ' ' + JSON.stringify({ ...trigger.eventFilters, ...trigger.eventFilterPathPatterns })
        : kind === 'scheduleTrigger' ? trigger.schedule + ' ' + trigger.timeZone
        : kind === 'taskQueueTrigger' ? JSON.stringify(trigger.retryConfig)
        : '',
    };
  }
  process.stdout.write(JSON.stringify(out));
`;

describe('deployable bundle', () => {
  let dir = '';
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('installs alone from the registry, loads, and exports every function with its trigger', async () => {
    if (!(await registryReachable())) {
      console.warn(`SKIPPED: the npm registry (${REGISTRY}) is unreachable, so the deploy bundle cannot be installed here.`);
      return;
    }
    const config = JSON.parse(readFileSync(join(REPO, 'firebase.json'), 'utf8')) as { functions: Array<{ source: string; ignore: string[]; predeploy: string[] }> };
    const [codebase] = config.functions;
    expect(codebase?.source).toBe('functions');
    expect(codebase?.predeploy.join(' ')).toContain('run build');
    // The predeploy step.
    execFileSync('npm', ['--prefix', FUNCTIONS, 'run', 'build'], { cwd: REPO, stdio: 'pipe' });

    const pkg = JSON.parse(readFileSync(join(FUNCTIONS, 'package.json'), 'utf8')) as { main: string; engines: { node: string }; dependencies: Record<string, string>; devDependencies?: Record<string, string> };
    // The bundled entry (functions/scripts/bundle-deploy.mjs): the protocol inlined.
    expect(pkg.main).toBe('lib/deploy.js');
    expect(pkg.engines.node).toBe('22');
    for (const [name, version] of Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })) {
      expect([name, version.startsWith('workspace:') || name.startsWith('@lifeboat/')]).toEqual([name, false]);
    }

    dir = mkdtempSync(join(tmpdir(), 'lifeboat-deploy-'));
    cpSync(FUNCTIONS, dir, { recursive: true, filter: (src) => src === FUNCTIONS || !ignored(relative(FUNCTIONS, src), codebase?.ignore ?? []) });
    expect(existsSync(join(dir, 'lib', 'deploy.js'))).toBe(true);
    expect(existsSync(join(dir, 'src'))).toBe(false);
    expect(existsSync(join(dir, '.secret.local'))).toBe(false);

    const install = spawnSync('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--no-package-lock'], { cwd: dir, encoding: 'utf8', timeout: 9 * 60_000 });
    expect([install.status, install.stderr.slice(-2000)]).toEqual([0, expect.anything()]);
    expect(existsSync(join(dir, 'node_modules', '@lifeboat'))).toBe(false);
    expect(existsSync(join(dir, 'node_modules', 'better-sqlite3'))).toBe(false);

    // A fresh process, with only the bundle's own node_modules and the committed .env, as Cloud
    // Functions loads it.
    const env: Record<string, string> = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? dir, GCLOUD_PROJECT: 'demo-lifeboat' };
    for (const line of readFileSync(join(dir, '.env'), 'utf8').split('\n')) {
      const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
      if (match?.[1] && match[2] !== undefined) env[match[1]] = match[2];
    }
    const load = spawnSync(process.execPath, ['-e', LIST_ENDPOINTS], { cwd: dir, env, encoding: 'utf8', timeout: 60_000 });
    expect([load.status, load.stderr]).toEqual([0, expect.any(String)]);
    const endpoints = JSON.parse(load.stdout) as Record<string, { kind: string; detail: string }>;
    console.log(
      `deployed functions (${Object.keys(endpoints).length}):\n` +
        Object.entries(endpoints)
          .map(([name, e]) => `  ${name.padEnd(24)} ${e.kind.padEnd(17)} ${e.detail}`)
          .join('\n'),
    );
    expect(Object.fromEntries(Object.entries(endpoints).map(([name, e]) => [name, e.kind]))).toEqual(EXPECTED);
  }, 10 * 60_000);
});
