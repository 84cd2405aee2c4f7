/**
 * The embedded runtime keeps everything in one folder: the SQLite database, the blob folder,
 * partial uploads and the token secret.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseMasterKey, type MasterKey } from '@lifeboat/engine/core';

/** `LIFEBOAT_DATA_DIR`, else `./.lifeboat` under the current directory. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env['LIFEBOAT_DATA_DIR'] ?? '.lifeboat');
}

export interface DataDirLayout {
  root: string;
  database: string;
  blobs: string;
  uploads: string;
  secretFile: string;
  masterKeyFile: string;
}

export function layout(root: string): DataDirLayout {
  return {
    root,
    database: join(root, 'lifeboat.db'),
    blobs: join(root, 'blobs'),
    uploads: join(root, 'uploads'),
    secretFile: join(root, 'token-secret'),
    masterKeyFile: join(root, 'master-key'),
  };
}

export function ensureDataDir(root: string): DataDirLayout {
  const paths = layout(root);
  for (const dir of [paths.root, paths.blobs, paths.uploads]) mkdirSync(dir, { recursive: true });
  return paths;
}

/**
 * The token secret: `LIFEBOAT_TOKEN_SECRET` when set, else a random one created on first use and
 * kept (mode 0600) in the data folder, so `lifeboat token` and the server agree.
 */
/** Writes a new random value to `file` unless it exists (mode 0600); returns its content. */
function readOrCreate(file: string, create: () => string): string {
  if (!existsSync(file)) {
    try {
      writeFileSync(file, create(), { flag: 'wx', mode: 0o600 });
    } catch (err) {
      // Another process created it first: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    chmodSync(file, 0o600);
  }
  return readFileSync(file, 'utf8').trim();
}

/**
 * Master keys for encryption at rest: `LIFEBOAT_MASTER_KEY` (64 hex characters or base64 of 32
 * bytes) when set, else a random key kept (mode 0600) in the data folder. Keys being rotated out
 * go in `LIFEBOAT_PREVIOUS_MASTER_KEYS`, comma-separated, until `lifeboat rewrap-keys` has run.
 */
export function loadMasterKeys(root: string, env: NodeJS.ProcessEnv = process.env): { current: MasterKey; previous: MasterKey[] } {
  const { masterKeyFile } = ensureDataDir(root);
  const current = parseMasterKey(env['LIFEBOAT_MASTER_KEY'] ?? readOrCreate(masterKeyFile, () => randomBytes(32).toString('hex')));
  const previous = (env['LIFEBOAT_PREVIOUS_MASTER_KEYS'] ?? '').split(',').map((k) => k.trim()).filter(Boolean).map(parseMasterKey);
  return { current, previous };
}

export function loadSecret(root: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['LIFEBOAT_TOKEN_SECRET'];
  if (fromEnv) return fromEnv;
  return readOrCreate(ensureDataDir(root).secretFile, () => randomBytes(32).toString('hex'));
}
