/**
 * glibc's malloc gives busy threads arenas of their own and returns freed memory lazily; with
 * sharp (libvips) decoding photo after photo, the server's RSS then grows with fragmentation far
 * past what it holds (docs/media.md, "Memory": 397 MiB against 193 MiB over the same photos).
 * glibc reads `MALLOC_ARENA_MAX` and `MALLOC_TRIM_THRESHOLD_` once, as the process starts, so a
 * running process cannot set them: `lifeboat serve` runs the server in a child process that has
 * them, unless they are set already or `LIFEBOAT_MALLOC_TUNING=off`.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

/** The settings docs/media.md recommends for any process that runs the media strategy. */
export const MALLOC_ENV: Readonly<Record<string, string>> = Object.freeze({ MALLOC_ARENA_MAX: '2', MALLOC_TRIM_THRESHOLD_: '131072' });

/** True when this process should hand over to a child with {@link MALLOC_ENV}: glibc only, and only once. */
export function needsMallocTuning(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): boolean {
  return platform === 'linux' && env['LIFEBOAT_MALLOC_TUNING'] !== 'off' && env['MALLOC_ARENA_MAX'] === undefined;
}

/**
 * Runs this same command again in a child process with {@link MALLOC_ENV} set, passing it SIGINT
 * and SIGTERM, and resolves with its exit code. The child gets an IPC channel, so it can stop when
 * this process dies, even by SIGKILL (`process.on('disconnect')`).
 */
export function rerunWithMallocTuning(): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    env: { ...process.env, ...MALLOC_ENV },
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
  });
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
    });
  });
}
