/**
 * An embedded server in a process of its own, run from the TypeScript sources (ts-loader.js), so
 * a test can kill it with SIGKILL and start it again on the same data folder and port. It runs as
 * `lifeboat serve` does (task steps in worker threads), with short retries and the test faults of
 * fault-strategies.ts in its workers, plus one in its own thread: a job created for a user named
 * `kill-after-create*` kills the process right after the job is stored, before its kickoff is
 * queued (once: `<uid>.killed` in the faults folder turns it off).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

const HELPERS = __dirname;
const ROOT = resolve(__dirname, '..', '..', '..');

export interface ServerProcessConfig {
  dataDir: string;
  /** Folder of the fault markers (fault-strategies.ts). */
  faults: string;
  secret: string;
  /** Lease of a GC run after a backup, ms: how long a GC killed mid-run fences the user's backups. */
  gcLeaseMs: number;
}

function launcher(): string {
  return `
require(${JSON.stringify(join(HELPERS, 'ts-loader.js'))});
const fs = require('node:fs');
const path = require('node:path');
const { override } = require('@lifeboat/engine/core');
const { startEmbeddedRuntime } = require(${JSON.stringify(join(ROOT, 'embedded', 'src', 'runtime.ts'))});
const { consoleLogger } = require(${JSON.stringify(join(ROOT, 'embedded', 'src', 'logger.ts'))});
const config = JSON.parse(process.argv[2]);
(async () => {
  const runtime = await startEmbeddedRuntime({
    dataDir: config.dataDir,
    port: config.port,
    tokenSecret: config.secret,
    logger: consoleLogger('warn'),
    isolateTasks: true,
    taskWorkerPreload: [${JSON.stringify(join(HELPERS, 'ts-loader.js'))}],
    taskWorkerSetup: ${JSON.stringify(join(HELPERS, 'fault-strategies.ts'))},
    retryPolicy: { delaysSeconds: [0.2, 0.2], jitter: 0 },
    schedulerIntervalMs: 0,
    gcAfterBackup: { graceMs: 0, minIntervalMs: 0, leaseMs: config.gcLeaseMs },
    instrumentStore: (store) => override(store, {
      async createJob(job, options) {
        const result = await store.createJob(job, options);
        if (job.uid.startsWith('kill-after-create') && !fs.existsSync(path.join(config.faults, job.uid + '.killed'))) {
          process.kill(process.pid, 'SIGKILL');
        }
        return result;
      },
    }),
  });
  process.stdout.write('listening ' + runtime.url + '\\n');
})().catch((err) => {
  process.stderr.write(String((err && err.stack) || err) + '\\n');
  process.exit(1);
});
`;
}

/** A free TCP port on 127.0.0.1 (the server keeps it across restarts). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

export class ServerProcess {
  private child: ChildProcess | null = null;
  private exit: Promise<NodeJS.Signals | number | null> = Promise.resolve(null);
  /** The server's log lines (warnings and errors), for a failing test's message. */
  readonly log: string[] = [];
  readonly script: string;

  constructor(
    private readonly config: ServerProcessConfig,
    readonly port: number,
    dir: string,
  ) {
    this.script = join(dir, 'server-launcher.js');
    writeFileSync(this.script, launcher());
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the server; resolves once it listens, with the time it did. */
  async start(): Promise<number> {
    const child = spawn(process.execPath, [this.script, JSON.stringify({ ...this.config, port: this.port })], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LIFEBOAT_TEST_FAULTS: this.config.faults, LIFEBOAT_TEST_LAST_ATTEMPT: '3' },
    });
    this.child = child;
    this.exit = new Promise((r) => child.once('exit', (code, signal) => r(signal ?? code)));
    child.stderr?.on('data', (d: Buffer) => this.log.push(...d.toString().split('\n').filter(Boolean)));
    return new Promise<number>((resolveStart, reject) => {
      let out = '';
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('listening ')) resolveStart(Date.now());
      });
      void this.exit.then((how) => reject(new Error(`server exited (${String(how)}) before it listened:\n${this.log.slice(-20).join('\n')}`)));
    });
  }

  /** Resolves when the process has exited, with its signal or exit code. */
  exited(): Promise<NodeJS.Signals | number | null> {
    return this.exit;
  }

  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exit;
  }

  async stop(): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      await this.exit;
    }
  }
}
