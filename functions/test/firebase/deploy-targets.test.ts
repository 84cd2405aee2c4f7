/**
 * Lifeboat deploys into the app's own Firebase project without touching the app's things
 * (docs/firebase.md, "Its own space"): its own functions codebase, a named Firestore database and
 * buckets of its own. Checked on what `firebase deploy` reads: firebase.json, .firebaserc, the
 * committed functions/.env, and the endpoints of the built functions (`__endpoint`, what the CLI
 * discovers), loaded in a fresh process as Cloud Functions loads them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FUNCTION_RESOURCES, memoryMiB, type FunctionGroup } from '../../src/firebase/config/function-resources';
import { resourceParamNames } from '../../src/firebase/config/resource-params';

const REPO = join(__dirname, '..', '..', '..');
const FUNCTIONS = join(REPO, 'functions');

interface FirebaseJson {
  functions: Array<{ source: string; codebase?: string }>;
  firestore: unknown;
  storage: unknown;
}

/** A project's default bucket (`PROJECT.appspot.com`, `PROJECT.firebasestorage.app`). */
const DEFAULT_BUCKET = /\.(appspot\.com|firebasestorage\.app)$/;

function dotEnv(): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of readFileSync(join(FUNCTIONS, '.env'), 'utf8').split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match?.[1] && match[2] !== undefined) values[match[1]] = match[2];
  }
  return values;
}

const LIST = `
  const mod = require(process.cwd());
  const endpoints = {};
  for (const [name, fn] of Object.entries(mod)) if (fn && fn.__endpoint) endpoints[name] = fn.__endpoint;
  const params = require('firebase-functions/params').declaredParams.map((p) => ({ name: p.name, default: p.options.default }));
  process.stdout.write(JSON.stringify({ endpoints, params }));
`;

interface Endpoint {
  eventTrigger?: { eventType: string; eventFilters?: Record<string, unknown>; eventFilterPathPatterns?: Record<string, unknown> };
  [kind: string]: unknown;
}

describe('deploy targets: Lifeboat\'s own space', () => {
  const config = JSON.parse(readFileSync(join(REPO, 'firebase.json'), 'utf8')) as FirebaseJson;
  const rc = JSON.parse(readFileSync(join(REPO, '.firebaserc'), 'utf8')) as { targets?: Record<string, Record<string, Record<string, string[]>>> };
  const env = dotEnv();
  let endpoints: Record<string, Endpoint> = {};
  let params: Array<{ name: string; default?: unknown }> = [];

  beforeAll(() => {
    // The predeploy step's build (incremental: quick when the functions are built), which bundles
    // the deployed entry, the package's main.
    execFileSync('npm', ['--prefix', FUNCTIONS, 'run', 'build'], { cwd: REPO, stdio: 'pipe' });
    const load = spawnSync(process.execPath, ['-e', LIST], { cwd: FUNCTIONS, env: { PATH: process.env['PATH'] ?? '', GCLOUD_PROJECT: 'demo-lifeboat', ...env }, encoding: 'utf8', timeout: 60_000 });
    expect([load.status, load.stderr]).toEqual([0, expect.any(String)]);
    ({ endpoints, params } = JSON.parse(load.stdout) as { endpoints: Record<string, Endpoint>; params: typeof params });
  }, 180_000);

  it('deploys the functions as the `lifeboat` codebase, never the shared `default` one', () => {
    expect(config.functions).toEqual([expect.objectContaining({ source: 'functions', codebase: 'lifeboat' })]);
  });

  it('deploys rules and indexes to the named database only', () => {
    expect(Array.isArray(config.firestore)).toBe(true);
    const databases = config.firestore as Array<{ database?: string; target?: string; rules?: string; indexes?: string }>;
    expect(databases).toEqual([{ database: 'lifeboat', rules: 'firestore.rules', indexes: 'firestore.indexes.json' }]);
    // The param the functions open the database with says the same, by default and in .env.
    expect(params.find((p) => p.name === 'LIFEBOAT_DATABASE')?.default).toBe('lifeboat');
    expect(env['LIFEBOAT_DATABASE']).toBe('lifeboat');
  });

  it('deploys storage rules to Lifeboat\'s buckets by deploy target, never to the default bucket', () => {
    const buckets = config.storage as Array<{ target?: string; bucket?: string; rules: string }>;
    expect(Array.isArray(buckets)).toBe(true);
    expect(buckets.map((b) => [b.target, b.bucket])).toEqual([
      ['lifeboat-blobs', undefined],
      ['lifeboat-uploads', undefined],
    ]);
    // The demo project's targets (and any other project's) name buckets of Lifeboat's own.
    for (const [project, types] of Object.entries(rc.targets ?? {})) {
      for (const [target, names] of Object.entries(types['storage'] ?? {})) {
        for (const name of names) expect([project, target, name, DEFAULT_BUCKET.test(name)]).toEqual([project, target, name, false]);
      }
    }
    expect(rc.targets?.['demo-lifeboat']?.['storage']).toEqual({ 'lifeboat-blobs': [env['LIFEBOAT_BLOBS_BUCKET']], 'lifeboat-uploads': [env['LIFEBOAT_UPLOADS_BUCKET']] });
  });

  it('puts every Firestore trigger on the named database', () => {
    const firestore = Object.entries(endpoints).filter(([, e]) => e.eventTrigger?.eventType.startsWith('google.cloud.firestore.'));
    expect(firestore.map(([name]) => name)).toEqual(['onBackupJobCreated']);
    for (const [name, endpoint] of firestore) {
      expect([name, endpoint.eventTrigger?.eventFilters?.['database']]).toEqual([name, 'params.LIFEBOAT_DATABASE']);
      expect([name, endpoint.eventTrigger?.eventFilterPathPatterns?.['document']]).toEqual([name, 'backupJobs/{jobId}']);
    }
  });

  it('puts the storage trigger on the uploads bucket alone', () => {
    const storage = Object.entries(endpoints).filter(([, e]) => e.eventTrigger?.eventType.startsWith('google.cloud.storage.'));
    expect(storage.map(([name, e]) => [name, e.eventTrigger?.eventType, e.eventTrigger?.eventFilters?.['bucket']])).toEqual([
      ['onChunkObjectFinalized', 'google.cloud.storage.object.v1.finalized', 'params.LIFEBOAT_UPLOADS_BUCKET'],
    ]);
    expect(env['LIFEBOAT_UPLOADS_BUCKET']).not.toBe(env['LIFEBOAT_BLOBS_BUCKET']);
  });

  it('names neither the (default) database nor a default bucket anywhere it deploys', () => {
    // A Firestore trigger's `namespace` is `(default)` (Datastore namespaces, not databases): set aside.
    const withoutNamespaces = Object.fromEntries(
      Object.entries(endpoints).map(([name, e]) => {
        const filters = { ...(e.eventTrigger?.eventFilters ?? {}) };
        if (e.eventTrigger?.eventType.startsWith('google.cloud.firestore.')) expect([name, filters['namespace']]).toEqual([name, '(default)']);
        delete filters['namespace'];
        return [name, e.eventTrigger ? { ...e, eventTrigger: { ...e.eventTrigger, eventFilters: filters } } : e];
      }),
    );
    const deployed = JSON.stringify({ endpoints: withoutNamespaces, firestore: config.firestore, storage: config.storage, targets: rc.targets });
    expect(deployed).not.toContain('(default)');
    expect(deployed).not.toMatch(/appspot\.com|firebasestorage\.app/);
    // The buckets' params have no default (the admin names them) and .env names buckets of its own.
    for (const name of ['LIFEBOAT_BLOBS_BUCKET', 'LIFEBOAT_UPLOADS_BUCKET']) {
      expect([name, params.find((p) => p.name === name)?.default]).toEqual([name, undefined]);
      expect([name, DEFAULT_BUCKET.test(env[name] ?? '')]).toEqual([name, false]);
    }
    // Only the chat source reads the app's own database, and only when a messages path is set.
    expect(params.find((p) => p.name === 'LIFEBOAT_CHAT_DATABASE')?.default).toBe('(default)');
  });

  it('deploys every function with its group\'s memory, timeout and concurrency as params, defaulting to the measured figures', () => {
    // onAccountDeleted is a 1st-gen event function with a group of its own.
    const groupOf = (name: string, endpoint: Endpoint): FunctionGroup =>
      name in FUNCTION_RESOURCES ? (name as FunctionGroup) : endpoint['callableTrigger'] !== undefined ? 'callables' : endpoint.eventTrigger !== undefined ? 'triggers' : (name as FunctionGroup);
    const seen = new Set<FunctionGroup>();
    for (const [name, endpoint] of Object.entries(endpoints)) {
      const group = groupOf(name, endpoint);
      expect([name, group in FUNCTION_RESOURCES]).toEqual([name, true]);
      seen.add(group);
      const names = resourceParamNames(group);
      // In the manifest a param is an expression the CLI resolves at deploy: `{{ params.NAME }}`.
      // A 1st-gen function serves one request at a time: it has no concurrency to set.
      const gen1 = endpoint['platform'] === 'gcfv1';
      expect([name, endpoint['availableMemoryMb'], endpoint['timeoutSeconds'], endpoint['concurrency']]).toEqual([
        name,
        `params.${names.memoryMiB}`,
        `params.${names.timeoutSeconds}`,
        gen1 ? undefined : `params.${names.concurrency}`,
      ]);
      expect(endpoint['cpu']).toBeUndefined();
    }
    expect([...seen].sort()).toEqual(Object.keys(FUNCTION_RESOURCES).sort());
    for (const group of Object.keys(FUNCTION_RESOURCES) as FunctionGroup[]) {
      const names = resourceParamNames(group);
      const expected = { [names.memoryMiB]: memoryMiB(group), [names.timeoutSeconds]: FUNCTION_RESOURCES[group].timeoutSeconds, [names.concurrency]: FUNCTION_RESOURCES[group].concurrency };
      for (const [param, value] of Object.entries(expected)) {
        // Declared with the default, and .env holds the same value, so a deploy asks for none of them.
        expect([param, params.find((p) => p.name === param)?.default, env[param]]).toEqual([param, value, String(value)]);
      }
    }
  });
});
