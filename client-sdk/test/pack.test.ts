/**
 * The SDK as an app developer gets it: `npm pack` (which builds it), the tarball installed into a
 * scratch project, then a backup against the embedded server from the installed package, through
 * `require` (CommonJS) and `import` (ES modules), the core entry in a process without
 * `TextEncoder`/`TextDecoder` (as Hermes before 0.74 has), and the package's types checked as an
 * app's TypeScript sees them. Installing needs `@noble/hashes` and `zod` from the registry (or npm's cache):
 * where neither answers, the test says so and checks only the tarball.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { silentLogger } from '@lifeboat/engine/ports';
import { createToken } from '../../embedded/src/auth/tokens';
import { startEmbeddedRuntime, type EmbeddedRuntime } from '../../embedded/src/runtime';

const SDK = resolve(__dirname, '..');
const ROOT = resolve(SDK, '..');
const PROTOCOL = join(ROOT, 'protocol');
const SECRET = 'pack-test';
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let runtime: EmbeddedRuntime;

/**
 * Packs the SDK and installs the tarball into a scratch app, while the tests are collected (it is
 * synchronous), so the installed-package tests can be skipped, and reported as skipped, when npm
 * cannot install the tarball's dependencies.
 */
function packAndInstall(): { dir: string; tarball: string; files: string[]; installed: { ok: true } | { ok: false; why: string } } {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-pack-'));
  // The SDK depends on the protocol package, published beside it: packed the same way.
  const protocol = JSON.parse(execFileSync(NPM, ['pack', '--json', '--pack-destination', dir], { cwd: PROTOCOL, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as Array<{ filename: string }>;
  const protocolTarball = join(dir, protocol[0]?.filename as string);
  const packed = JSON.parse(execFileSync(NPM, ['pack', '--json', '--pack-destination', dir], { cwd: SDK, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const tarball = join(dir, packed[0]?.filename as string);
  const files = (packed[0]?.files ?? []).map((f) => f.path).sort();
  const app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'scratch-app', private: true }));
  // Dependencies come from npm's cache when it has them; an unreachable registry fails within ~40 s, not npm's 5 minutes.
  const install = spawnSync(NPM, ['install', protocolTarball, tarball, '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', '--loglevel=error', '--fetch-retries=1', '--fetch-timeout=20000'], { cwd: app, encoding: 'utf8', timeout: 120_000 });
  if (install.status === 0) return { dir, tarball, files, installed: { ok: true } };
  const lines = (install.stderr || install.error?.message || `exit ${install.status}`).trim().split('\n');
  const telling = lines.filter((l) => /\b(code|FetchError|reason|ENOTCACHED|ETIMEDOUT|404)\b/.test(l));
  const why = (telling.length > 0 ? telling.slice(0, 3) : lines.slice(-3)).map((l) => l.replace(/^npm error /, '')).join('; ');
  console.warn(`skipping the installed-package tests: npm could not install the packed SDK's dependencies (@noble/hashes, zod) from its cache or the registry (${why})`);
  return { dir, tarball, files, installed: { ok: false, why } };
}

const { dir, tarball, files, installed } = packAndInstall();
const whenInstalled = installed.ok ? it : it.skip;

beforeAll(async () => {
  runtime = await startEmbeddedRuntime({ dataDir: join(dir, 'data'), port: 0, logger: silentLogger, tokenSecret: SECRET, schedulerIntervalMs: 0, gcAfterBackup: false });
});

afterAll(async () => {
  await runtime?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs a script of the scratch app with node (asynchronously: the server answering it runs in this
 * process); its last line of output is JSON.
 */
async function run(script: string, args: string[] = []): Promise<unknown> {
  const { stdout } = await promisify(execFile)(process.execPath, [...args, script, runtime.url, createToken(SECRET, { uid: 'pat' })], { cwd: join(dir, 'app'), encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1) as string);
}

const BACKUP = (entry: string, load: string, http = '') => `
${load}
const [baseUrl, token] = process.argv.slice(2);
(async () => {
  const sdk = ${entry};
  const client = sdk.createBackupClient({ baseUrl, getToken: () => token, deviceId: 'scratch-' + Math.random()${http} });
  const started = await client.startBackup({
    types: ['contacts', 'media'],
    sources: { contacts: [{ id: 'c1', name: { display: 'Ada' } }], media: [{ sourceId: 'm1', name: 'IMG 1.jpg', modifiedAt: '2024-01-01T00:00:00Z', bytes: new Uint8Array([1, 2, 3]) }] },
  });
  const job = await client.waitForJob(started.jobId, { intervalMs: 20 });
  const names = [];
  await client.restore({ snapshotId: job.snapshotId, sink: { open: (item) => (names.push(item.meta ? item.meta.name : item.sourceId), null) } });
  console.log(JSON.stringify({ status: job.status, items: job.progress.processedItems, names: names.sort(), hasher: typeof sdk.nodeHasher }));
})().catch((err) => { console.error(err); process.exit(1); });
`;

describe('the packed SDK', () => {
  it('ships the CommonJS and ES module builds, their types, README and CHANGELOG, and nothing else', () => {
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'CHANGELOG.md', 'lib/index.js', 'lib/index.d.ts', 'lib/node/index.js', 'lib/node/index.d.ts', 'lib/esm/index.mjs', 'lib/esm/index.d.mts', 'lib/esm/node/index.mjs', 'lib/esm/node/index.d.mts']));
    expect(files.filter((f) => !/^lib\/.+\.(js|mjs|d\.ts|d\.mts)$/.test(f) && !['package.json', 'README.md', 'CHANGELOG.md'].includes(f))).toEqual([]);
    const pkg = JSON.parse(execFileSync('tar', ['-xOzf', tarball, 'package/package.json'], { encoding: 'utf8' })) as Record<string, unknown>;
    expect(pkg).toMatchObject({ name: '@lifeboat/client-sdk', sideEffects: false, exports: { '.': { import: { default: './lib/esm/index.mjs' }, require: { default: './lib/index.js' } } } });
    // Metro takes the first condition it knows; the CommonJS build spares apps adding .mjs to sourceExts.
    const core = (pkg['exports'] as Record<string, Record<string, { default: string }>>)['.'] ?? {};
    expect(Object.keys(core)[0]).toBe('react-native');
    expect(core['react-native']?.default).toBe('./lib/index.js');
    expect(pkg['private']).toBeUndefined();
    expect(String(pkg['version'])).toMatch(/^\d+\.\d+\.\d+$/);
  });

  whenInstalled('backs up and restores through require and import of the installed package', async () => {
    const app = join(dir, 'app');
    writeFileSync(join(app, 'backup.cjs'), BACKUP("require('@lifeboat/client-sdk/node')", ''));
    writeFileSync(join(app, 'backup.mjs'), BACKUP('node', "import * as node from '@lifeboat/client-sdk/node';"));
    const expected = { status: 'completed', items: 2, names: ['IMG 1.jpg', 'c1'], hasher: 'function' };
    expect(await run('backup.cjs')).toEqual(expected);
    expect(await run('backup.mjs')).toEqual(expected);
  });

  whenInstalled('imports and backs up from the core entry with TextEncoder and TextDecoder removed', async () => {
    const app = join(dir, 'app');
    writeFileSync(join(app, 'no-codecs.cjs'), 'delete globalThis.TextEncoder; delete globalThis.TextDecoder;\n');
    // Node's own fetch needs the codecs, so the transport is node:http; the SDK's UTF-8 is its fallback.
    const load = "if (typeof TextEncoder !== 'undefined' || typeof TextDecoder !== 'undefined') throw new Error('codecs still there');";
    writeFileSync(join(app, 'core.mjs'), BACKUP('core', `import * as core from '@lifeboat/client-sdk';\nimport { nodeHttp } from '@lifeboat/client-sdk/node';\n${load}`, ', http: nodeHttp()'));
    writeFileSync(join(app, 'core.cjs'), BACKUP("require('@lifeboat/client-sdk')", load, ", http: require('@lifeboat/client-sdk/node').nodeHttp()"));
    const expected = { status: 'completed', items: 2, names: ['IMG 1.jpg', 'c1'], hasher: 'undefined' };
    expect(await run('core.mjs', ['--require', './no-codecs.cjs'])).toEqual(expected);
    expect(await run('core.cjs', ['--require', './no-codecs.cjs'])).toEqual(expected);
  });

  whenInstalled('types the package for an ES module and a CommonJS app', () => {
    const app = join(dir, 'app');
    const use = (from: string) => `
import { createBackupClient, nobleHasher, type BackupProgress, type RestoreItem } from '${from}';
const client = createBackupClient({ baseUrl: 'http://x', getToken: () => 't', deviceId: 'd', hasher: nobleHasher });
const show = (p: BackupProgress): string => \`\${p.currentItem?.name ?? ''} \${p.bytesHashed}\`;
const named = (item: RestoreItem): string | undefined => item.meta?.modifiedAt;
export const ok: [typeof client.deleteMyData, typeof show, typeof named] = [client.deleteMyData, show, named];
`;
    writeFileSync(join(app, 'esm.mts'), use('@lifeboat/client-sdk'));
    writeFileSync(join(app, 'cjs.cts'), use('@lifeboat/client-sdk/node'));
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { module: 'node16', moduleResolution: 'node16', target: 'es2022', strict: true, noEmit: true, skipLibCheck: true, types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')], lib: ['es2022', 'dom'] },
      files: ['esm.mts', 'cjs.cts'],
    }));
    const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', app], { encoding: 'utf8', timeout: 120_000 });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
    expect(readdirSync(app)).not.toContain('esm.mjs');
  });
});
