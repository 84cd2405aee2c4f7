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
 * a mode).
 */
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const { join, resolve } = require('node:path');

const ROOT = join(__dirname, '..');
const FIREBASE = join(ROOT, 'node_modules', 'firebase-tools', 'lib', 'bin', 'firebase.js');
const SESSION = join(ROOT, 'embedded', 'lib', 'emulator', 'tester-session.js');
const PROJECT = 'demo-lifeboat';

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
  const env = { ...process.env, LIFEBOAT_EMULATOR_PROJECT: PROJECT, LIFEBOAT_EMULATOR_FUNCTIONS_HOST: '127.0.0.1:5001', LIFEBOAT_EMULATOR_MODE: full ? 'full' : 'embedded' };
  let host = null;
  let args;
  if (full) {
    args = ['emulators:exec', '--project', PROJECT, '--only', 'functions,firestore,storage,tasks,auth,eventarc', `node ${JSON.stringify(SESSION)}`];
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
    Object.assign(env, { LIFEBOAT_DATA_DIR: dataDir, LIFEBOAT_UPLOAD_BASE_URL: host.baseUrl, LIFEBOAT_EMBEDDED_DOWNLOAD_URL: `http://127.0.0.1:5001/${PROJECT}/us-central1/downloadBlob` });
    args = ['emulators:exec', '--config', join(ROOT, 'embedded', 'emulator', 'firebase.json'), '--project', PROJECT, '--only', 'functions,tasks,auth,eventarc', `node ${JSON.stringify(SESSION)}`];
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
