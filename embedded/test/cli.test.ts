/**
 * The `lifeboat` command as users run it (`npm start`, `npm run lifeboat -- …`): the compiled CLI
 * in its own processes over one data folder. `serve` answers, takes a backup from the SDK and
 * stops on SIGTERM (on Linux in a child with the malloc settings, which stops with it); `token`,
 * `jobs`, `snapshots`, `verify`, `restore` and `gc` work on what it stored; bad usage exits 2.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createBackupClient } from '@lifeboat/client-sdk';
import { demoContacts, demoDeviceInfo } from '../src/demo-data';

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'embedded', 'lib', 'cli.js');
let dir: string;
let data: string;

beforeAll(() => {
  // The CLI runs compiled, as `npm start` runs it.
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', join(ROOT, 'embedded')], { stdio: 'inherit' });
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-cli-'));
  data = join(dir, 'data');
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The environment of a user who set nothing: no malloc settings, no Lifeboat variables. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('MALLOC_') && !k.startsWith('LIFEBOAT_')) env[k] = v;
  return { ...env, ...extra };
}

function lifeboat(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args, '--data', data], { env: userEnv(), encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Pids of the processes whose parent is `pid` (from /proc, Linux). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      // `pid (comm) state ppid …`; comm may hold spaces, so read after its closing parenthesis.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(name));
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

function environOf(pid: number): Record<string, string> {
  return Object.fromEntries(
    readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
}

function serve(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data', data, '--log', 'error'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return new Promise((resolveUrl, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m?.[1]) resolveUrl({ child, url: m[1], exited });
    });
    void exited.then((code) => reject(new Error(`serve exited ${code} before listening: ${out}`)));
  });
}

describe('lifeboat CLI', () => {
  let snapshotId = '';
  const contacts = demoContacts({ contacts: 300, seed: 11 });

  it('serve answers, takes a backup, and stops on SIGTERM', async () => {
    const server = await serve(userEnv());
    try {
      expect(await (await fetch(`${server.url}/healthz`)).json()).toMatchObject({ ok: true });
      if (process.platform === 'linux') {
        // The server proper runs in a child that has the malloc settings; it stops with its parent.
        const [worker] = childrenOf(server.child.pid as number);
        expect(worker).toBeDefined();
        expect(environOf(worker as number)).toMatchObject({ MALLOC_ARENA_MAX: '2', MALLOC_TRIM_THRESHOLD_: '131072' });
      }
      const token = lifeboat(['token', '--uid', 'cli-user']).out.trim();
      // An admin token opens the dashboard's data; a user token does not.
      const dashboard = (bearer: string) => fetch(`${server.url}/dashboard/data`, { headers: { authorization: `Bearer ${bearer}` } });
      expect((await dashboard(lifeboat(['token', '--admin']).out.trim())).status).toBe(200);
      expect((await dashboard(token)).status).toBe(403);
      const client = createBackupClient({ baseUrl: server.url, getToken: () => token, deviceId: 'cli-phone' });
      const started = await client.startBackup({ types: ['contacts', 'deviceInfo'], sources: { contacts, deviceInfo: demoDeviceInfo() } });
      const job = await client.waitForJob(started.jobId, { intervalMs: 20 });
      expect(job.status).toBe('completed');
      snapshotId = job.snapshotId as string;
    } finally {
      const workers = process.platform === 'linux' ? childrenOf(server.child.pid as number) : [];
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
      for (const pid of workers) expect(existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ')).toBe(false);
    }
  }, 60_000);

  it('keeps the environment as it is with LIFEBOAT_MALLOC_TUNING=off', async () => {
    const server = await serve(userEnv({ LIFEBOAT_MALLOC_TUNING: 'off' }));
    try {
      expect(childrenOf(server.child.pid as number)).toEqual([]);
      expect(environOf(server.child.pid as number)['MALLOC_ARENA_MAX']).toBeUndefined();
    } finally {
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    }
  }, 60_000);

  it('lists, verifies and restores what serve stored; gc keeps what snapshots use', () => {
    expect(snapshotId).not.toBe('');
    const jobs = lifeboat(['jobs', '--uid', 'cli-user']);
    expect(jobs.code).toBe(0);
    expect(jobs.out).toMatch(new RegExp(`completed .* items 301/301 .* ${snapshotId}`));
    expect(lifeboat(['snapshots', '--uid', 'cli-user']).out).toContain(`${snapshotId}  `);
    expect(lifeboat(['snapshots', '--uid', 'nobody']).out).toBe('no snapshots\n');

    const verify = lifeboat(['verify', snapshotId]);
    expect(verify).toMatchObject({ code: 0, out: expect.stringMatching(/: OK\n$/) });

    const to = join(dir, 'restored');
    const restore = lifeboat(['restore', snapshotId, '--to', to]);
    expect(restore.code).toBe(0);
    expect(restore.out).toContain('Restored 300 contacts, 1 deviceInfo');
    const restored = readFileSync(join(to, 'contacts.ndjson'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id);
    expect(restored.sort()).toEqual(contacts.map((c) => c.id).sort());
    expect(JSON.parse(readFileSync(join(to, 'device-info.json'), 'utf8'))).toMatchObject({ model: demoDeviceInfo().model });
    // Never into a folder that holds something: nothing there is overwritten.
    const busy = join(dir, 'busy');
    mkdirSync(busy);
    writeFileSync(join(busy, 'contacts.ndjson'), 'mine\n');
    const refused = lifeboat(['restore', snapshotId, '--to', busy]);
    expect(refused.code).not.toBe(0);
    expect(readFileSync(join(busy, 'contacts.ndjson'), 'utf8')).toBe('mine\n');

    const gc = lifeboat(['gc', '--uid', 'cli-user', '--grace-hours', '0']);
    expect(gc.code).toBe(0);
    expect(gc.out).toMatch(/^1 snapshot\(s\), \d+ referenced blob\(s\)/);
    expect(lifeboat(['verify', snapshotId]).code).toBe(0);
  });

  it('answers bad usage with a message and exit code 2', () => {
    for (const args of [['jobs'], ['restore', 'snap_x'], ['verify'], ['serve', '--port', '70000'], ['frobnicate']]) {
      const r = lifeboat(args);
      expect([args.join(' '), r.code]).toEqual([args.join(' '), 2]);
      expect(r.err).toMatch(/^lifeboat: /);
    }
    expect(lifeboat(['verify', 'snap_missing'])).toMatchObject({ code: 2, err: expect.stringContaining('no snapshot snap_missing') });
  });
});
