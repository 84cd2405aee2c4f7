/**
 * The embedded runtime keeps everything in one folder: the SQLite database, the blob folder,
 * partial uploads and the token secret.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

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
}

export function layout(root: string): DataDirLayout {
  return {
    root,
    database: join(root, 'lifeboat.db'),
    blobs: join(root, 'blobs'),
    uploads: join(root, 'uploads'),
    secretFile: join(root, 'token-secret'),
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
export function loadSecret(root: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['LIFEBOAT_TOKEN_SECRET'];
  if (fromEnv) return fromEnv;
  const { secretFile } = ensureDataDir(root);
  if (!existsSync(secretFile)) {
    try {
      writeFileSync(secretFile, randomBytes(32).toString('hex'), { flag: 'wx', mode: 0o600 });
    } catch (err) {
      // Another process created it first: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    chmodSync(secretFile, 0o600);
  }
  return readFileSync(secretFile, 'utf8').trim();
}
