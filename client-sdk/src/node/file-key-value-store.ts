/**
 * A KeyValueStore in a folder, for Node and Electron: one file per key, written to a temp file,
 * fsynced and renamed, so a kill at any moment leaves the old value or the new one, never half.
 */
import { createHash, randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { KeyValueStore } from '../ports';

export function fileKeyValueStore(dir: string): KeyValueStore {
  const pathOf = (key: string) => join(dir, `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.json`);
  return {
    async getItem(key) {
      try {
        return await fsp.readFile(pathOf(key), 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
    },
    async setItem(key, value) {
      await fsp.mkdir(dir, { recursive: true });
      const temp = join(dir, `.${randomUUID()}.tmp`);
      const handle = await fsp.open(temp, 'w');
      try {
        await handle.writeFile(value, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fsp.rename(temp, pathOf(key));
    },
    async removeItem(key) {
      await fsp.rm(pathOf(key), { force: true });
    },
  };
}
