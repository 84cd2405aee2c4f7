#!/usr/bin/env node
/**
 * `npm run emulators`: Lifeboat inside the Firebase Emulator Suite, for an app's testers. Where
 * Java 21 is installed, the deployed codebase (functions/) runs over the Firestore and Storage
 * emulators (firebase.json); elsewhere the emulator codebase (embedded/emulator) runs the same
 * functions over the embedded stores in a data folder, with this process serving the uploads as
 * Cloud Storage would. Either way the functions, tasks, auth and eventarc emulators run, and
 * once they are up the SDK's baseUrl and a test user's token are printed. Ctrl-C stops it all.
 *
 * Options: --data DIR (embedded stores; default .lifeboat-emulators), --full / --embedded (force
 * a mode), --ports BASE (the emulators on BASE, BASE+1, … instead of 5001, 9499, …: beside an
 * app's own Emulator Suite, which takes the standard ports).
 */
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const { join, resolve } = require('node:path');

const ROOT = join(__dirname, '..');
const FIREBASE = join(ROOT, 'node_modules', 'firebase-tools', 'lib', 'bin', 'firebase.js');
const SESSION = join(ROOT, 'embedded', 'lib', 'emulator', 'tester-session.js');
const PROJECT = 'demo-lifeboat';
const EMULATORS = ['functions', 'tasks', 'auth', 'eventarc', 'hub', 'logging', 'firestore', 'storage'];

/**
 * The config to run: the committed one, or (with --ports) a copy next to the repository root with
 * every emulator moved to BASE + its index. The copy lives in the root so its paths (rules,
 * indexes, the functions source) stay as they are.
 */
function configFor(committed, base) {
  if (base === undefined) return { path: committed, functionsPort: 5001, authPort: 9099 };
  const { readFileSync, writeFileSync } = require('node:fs');
  const { dirname, relative } = require('node:path');
  const config = JSON.parse(readFileSync(committed, 'utf8'));
  const from = dirname(committed);
  config.functions = config.functions.map((f) => ({ ...f, source: relative(ROOT, join(from, f.source)) || '.' }));
  for (const key of ['firestore', 'storage']) {
    if (Array.isArray(config[key])) config[key] = config[key].map((entry) => Object.fromEntries(Object.entries(entry).map(([k, v]) => [k, k === 'rules' || k === 'indexes' ? relative(ROOT, join(from, v)) : v])));
  }
  EMULATORS.forEach((name, i) => {
    config.emulators[name] = { ...(config.emulators[name] ?? {}), host: '127.0.0.1', port: base + i };
  });
  const path = join(ROOT, '.firebase.emulators.json');
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`);
  return { path, functionsPort: base, authPort: base + EMULATORS.indexOf('auth') };
}

function javaMajor() {
  const out = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const match = /version "(\d+)/.exec(`${out.stderr ?? ''}${out.stdout ?? ''}`);
  return match ? Number(match[1]) : 0;
}

function option(name) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main() {
  const java = javaMajor();
  const full = process.argv.includes('--full') || (!process.argv.includes('--embedded') && java >= 21);
  const base = option('--ports') === undefined ? undefined : Number(option('--ports'));
  if (base !== undefined && !(Number.isInteger(base) && base > 1024 && base < 65000)) throw new Error('--ports needs a port number from 1025 to 64999');
  const { path: config, functionsPort, authPort } = configFor(full ? join(ROOT, 'firebase.json') : join(ROOT, 'embedded', 'emulator', 'firebase.json'), base);
  const env = { ...process.env, LIFEBOAT_EMULATOR_PROJECT: PROJECT, LIFEBOAT_EMULATOR_FUNCTIONS_HOST: `127.0.0.1:${functionsPort}`, LIFEBOAT_EMULATOR_AUTH_HOST: `127.0.0.1:${authPort}`, LIFEBOAT_EMULATOR_MODE: full ? 'full' : 'embedded' };
  let host = null;
  let args;
  if (full) {
    args = ['emulators:exec', '--config', config, '--project', PROJECT, '--only', 'functions,firestore,storage,tasks,auth,eventarc', `node ${JSON.stringify(SESSION)}`];
  } else {
    process.stdout.write(`npm run emulators: ${java ? `Java ${java}` : 'no Java'} here, the Firestore and Storage emulators need 21: Lifeboat runs over the embedded stores.\n`);
    const { startUploadHost } = require(join(ROOT, 'embedded', 'lib', 'emulator', 'upload-host.js'));
    const { parseAllowedOrigins } = require(join(ROOT, 'functions', 'lib', 'core', 'index.js'));
    const dataDir = resolve(option('--data') ?? '.lifeboat-emulators');
    const dotenv = require('node:fs').readFileSync(join(ROOT, 'functions', '.env'), 'utf8');
    const value = (key) => (new RegExp(`^${key}=(.*)$`, 'm').exec(dotenv) ?? [])[1] ?? '';
    host = await startUploadHost({
      dataDir,
      functionsHost: env.LIFEBOAT_EMULATOR_FUNCTIONS_HOST,
      project: PROJECT,
      bucket: value('LIFEBOAT_UPLOADS_BUCKET'),
      allowedOrigins: parseAllowedOrigins(process.env.LIFEBOAT_ALLOWED_ORIGINS ?? value('LIFEBOAT_ALLOWED_ORIGINS')),
      logger: { info: () => {}, warn: (m) => console.warn(m), error: (m) => console.error(m) },
    });
    Object.assign(env, { LIFEBOAT_DATA_DIR: dataDir, LIFEBOAT_UPLOAD_BASE_URL: host.baseUrl, LIFEBOAT_EMBEDDED_DOWNLOAD_URL: `http://127.0.0.1:${functionsPort}/${PROJECT}/us-central1/downloadBlob` });
    args = ['emulators:exec', '--config', config, '--project', PROJECT, '--only', 'functions,tasks,auth,eventarc', `node ${JSON.stringify(SESSION)}`];
  }
  const child = spawn(process.execPath, [FIREBASE, ...args], { cwd: ROOT, env, stdio: 'inherit' });
  const stop = () => child.kill('SIGINT');
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const code = await new Promise((r) => child.once('exit', (c) => r(c ?? 1)));
  if (host) await host.close();
  process.exit(code);
}

main().catch((err) => {
  console.error(`npm run emulators: ${err.message}`);
  process.exit(1);
});
