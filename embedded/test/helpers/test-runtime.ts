/**
 * The embedded runtime most end-to-end tests run against: a fresh temporary folder and a runtime
 * on an ephemeral port, started before the file's tests and removed after them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackupClient, type BackupClient, type BackupClientOptions } from '@lifeboat/client-sdk';
import { silentLogger } from '@lifeboat/engine/ports';
import { createToken } from '../../src/auth/tokens';
import { startEmbeddedRuntime, type EmbeddedRuntime, type EmbeddedRuntimeOptions } from '../../src/runtime';

export interface TestRuntime {
  /** The temporary folder; the runtime's data lives in `dataDir`, tests may use the rest. */
  readonly dir: string;
  /** `dir/data`, the runtime's data folder. */
  readonly dataDir: string;
  readonly runtime: EmbeddedRuntime;
  /** The runtime's token secret. */
  readonly secret: string;
  /** A token for `uid` signed with the runtime's secret. */
  token(uid: string): string;
  /** An SDK client for `uid` on device `${uid}-phone`; `options` override any of that. */
  client(uid: string, options?: Partial<BackupClientOptions>): BackupClient;
}

/**
 * Registers `beforeAll`/`afterAll` hooks that start and stop an embedded runtime; call at the top
 * level of a test file. Its own `beforeAll` hooks registered after this one see the runtime.
 * @param name Prefix of the temporary folder.
 * @param options Runtime options; `port` @default 0, `logger` @default silentLogger, `tokenSecret` @default 's',
 *   `gcAfterBackup` @default false: a GC run after one backup holds the user's lease and turns the
 *   next backup's steps away for a 30 s retry (embedded/test/gc.test.ts covers it, with short retries).
 */
export function useTestRuntime(name: string, options: Omit<EmbeddedRuntimeOptions, 'dataDir'> = {}): TestRuntime {
  let dir = '';
  let runtime: EmbeddedRuntime | undefined;
  const secret = options.tokenSecret ?? 's';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `lifeboat-${name}-`));
    runtime = await startEmbeddedRuntime({ port: 0, logger: silentLogger, gcAfterBackup: false, ...options, tokenSecret: secret, dataDir: join(dir, 'data') });
  });

  afterAll(async () => {
    await runtime?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const t: TestRuntime = {
    get dir() {
      return dir;
    },
    get dataDir() {
      return join(dir, 'data');
    },
    get runtime() {
      if (!runtime) throw new Error('the test runtime is used before beforeAll started it');
      return runtime;
    },
    secret,
    token: (uid) => createToken(secret, { uid }),
    client(uid, clientOptions = {}) {
      const token = t.token(uid);
      return createBackupClient({ baseUrl: t.runtime.url, getToken: () => token, deviceId: `${uid}-phone`, ...clientOptions });
    },
  };
  return t;
}
