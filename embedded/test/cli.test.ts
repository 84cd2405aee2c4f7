/**
 * The `lifeboat` command as users run it (`npm start`, `npm run lifeboat -- …`): the compiled CLI
 * in its own processes over one data folder. `serve` answers, takes two backups from the SDK and
 * stops on SIGTERM (on Linux in a child with the malloc settings, which stops with it); every
 * other command works on what it stored: its `--json` output parsed, help for each command, short
 * ids and `latest`, the exit codes (0 ok, 1 failure, 2 usage, 3 partial restore), progress only on
 * a terminal, and `forget` applying the user's retention policy.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createBackupClient } from '@lifeboat/client-sdk';
import { blobKey, restoreItems, saveRetentionPolicy, type Snapshot } from '@lifeboat/engine/core';
import { FolderBlobStore } from '../src/adapters/folder-blob-store';
import { openData } from '../src/cli/data';
import { COMMANDS } from '../src/cli/spec';
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
  let firstId = '';
  const all = demoContacts({ contacts: 303, seed: 11 });
  const firstContacts = all.slice(0, 300);
  const contacts = [...all.slice(2, 5).map((c) => ({ ...c, note: 'edited' })), ...all.slice(5, 7).map((c) => ({ ...c, note: 'edited' })), ...all.slice(7)];

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
      const started = await client.startBackup({ types: ['contacts', 'deviceInfo'], sources: { contacts: firstContacts, deviceInfo: demoDeviceInfo() } });
      const job = await client.waitForJob(started.jobId, { intervalMs: 20 });
      expect(job.status).toBe('completed');
      firstId = job.snapshotId as string;
      // A second backup a moment later: 2 contacts gone, 3 new, 5 edited (what `diff` must find).
      await new Promise((r) => setTimeout(r, 5));
      const again = await client.startBackup({ types: ['contacts', 'deviceInfo'], sources: { contacts, deviceInfo: demoDeviceInfo() } });
      const job2 = await client.waitForJob(again.jobId, { intervalMs: 20 });
      expect(job2.status).toBe('completed');
      snapshotId = job2.snapshotId as string;
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
    expect(jobs.out).toMatch(new RegExp(`completed .* items 302/302 .* ${snapshotId}`));
    expect(lifeboat(['snapshots', '--uid', 'cli-user']).out).toContain(`${snapshotId}  `);
    expect(lifeboat(['snapshots', '--uid', 'nobody']).out).toBe('no snapshots\n');

    const verify = lifeboat(['verify', snapshotId]);
    expect(verify).toMatchObject({ code: 0, out: expect.stringMatching(/: OK\n$/) });

    const to = join(dir, 'restored');
    const restore = lifeboat(['restore', snapshotId, '--to', to]);
    expect(restore.code).toBe(0);
    expect(restore.out).toContain('Restored 301 contacts, 1 deviceInfo');
    const restored = readFileSync(join(to, 'contacts.ndjson'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id);
    expect(restored.sort()).toEqual(contacts.map((c) => c.id).sort());
    expect(JSON.parse(readFileSync(join(to, 'device-info.json'), 'utf8'))).toMatchObject({ model: demoDeviceInfo().model });
    // Never into a folder that holds something: nothing there is overwritten.
    const busy = join(dir, 'busy');
    mkdirSync(busy);
    writeFileSync(join(busy, 'contacts.ndjson'), 'mine\n');
    const refused = lifeboat(['restore', snapshotId, '--to', busy]);
    expect(refused).toMatchObject({ code: 1, err: expect.stringMatching(/^lifeboat: failed-precondition: .* is not empty/) });
    expect(readFileSync(join(busy, 'contacts.ndjson'), 'utf8')).toBe('mine\n');

    const gc = lifeboat(['gc', '--uid', 'cli-user', '--grace-hours', '0']);
    expect(gc.code).toBe(0);
    expect(gc.out).toMatch(/^2 snapshot\(s\), \d+ referenced blob\(s\)/);
    expect(lifeboat(['verify', snapshotId]).code).toBe(0);
  });

  it('prints every command\'s result as one JSON document with --json', () => {
    const parsed = (args: string[]) => {
      const r = lifeboat([...args, '--json']);
      expect([args.join(' '), r.code, r.err]).toEqual([args.join(' '), 0, '']);
      return JSON.parse(r.out) as Record<string, unknown> & Array<Record<string, unknown>>;
    };
    expect(parsed(['version'])).toEqual({ version: '0.1.0', node: process.version });
    expect(parsed(['token', '--uid', 'cli-user'])).toMatchObject({ uid: 'cli-user', admin: false, token: expect.stringMatching(/\S{20,}/), expiresAt: expect.any(Number) });
    const jobs = parsed(['jobs', '--uid', 'cli-user']);
    expect(jobs.map((j) => [j['status'], j['snapshotId']])).toEqual([['completed', snapshotId], ['completed', firstId]]);
    const snapshots = parsed(['snapshots', '--uid', 'cli-user']);
    expect(snapshots.map((x) => x['id'])).toEqual([snapshotId, firstId]);
    expect(snapshots[0]).toMatchObject({ uid: 'cli-user', deviceId: 'cli-phone', types: ['contacts', 'deviceInfo'], totals: { items: 302 } });
    expect(parsed(['verify', snapshotId])).toMatchObject({ snapshotId, ok: true, problems: [], checkedBlobs: expect.any(Number) });
    const to = join(dir, 'restored-json');
    expect(parsed(['restore', snapshotId, '--to', to, '--types', 'deviceInfo'])).toMatchObject({ snapshotId, items: { deviceInfo: 1 }, failed: [], partial: false, files: ['device-info.json', 'restore-report.json'] });
    expect(parsed(['diff', firstId, snapshotId])).toMatchObject({
      from: { id: firstId },
      to: { id: snapshotId },
      byType: { contacts: { added: 3, removed: 2, changed: 5, unchanged: 293 }, deviceInfo: { added: 0, removed: 0, changed: 0, unchanged: 1 } },
    });
    const listed = parsed(['diff', firstId, snapshotId, '--items']) as unknown as { items: Array<{ change: string; sourceId: string }> };
    expect(listed.items.filter((i) => i.change === 'removed').map((i) => i.sourceId).sort()).toEqual([all[0]?.id, all[1]?.id].sort());
    expect(parsed(['stats', snapshotId])).toMatchObject({ snapshot: snapshotId, parentId: firstId, totals: { items: 302 }, changes: { contacts: { added: 3, removed: 2, changed: 5 } } });
    const user = parsed(['stats', '--uid', 'cli-user']);
    expect(user).toMatchObject({ uid: 'cli-user', snapshots: 2, devices: [{ deviceId: 'cli-phone', snapshots: 2, latest: snapshotId }], totals: { items: 603 } });
    expect((user['storage'] as { blobs: number; bytes: number }).bytes).toBeGreaterThan(0);
    expect(parsed(['forget', '--uid', 'cli-user', '--dry-run'])).toMatchObject({ uid: 'cli-user', dryRun: true, isDefault: true, forget: [], keep: [{ id: snapshotId }, { id: firstId }] });
    expect(parsed(['gc', '--uid', 'cli-user', '--dry-run'])).toMatchObject({ uid: 'cli-user', status: 'done', dryRun: true, liveSnapshots: 2 });
    expect(parsed(['rewrap-keys'])).toMatchObject({ rewrapped: expect.any(Number), masterKey: expect.any(String) });
    // Errors too: one JSON object on stderr, with the code and the exit code.
    const missing = lifeboat(['verify', 'snap_nope', '--json']);
    expect([missing.code, missing.out, JSON.parse(missing.err)]).toEqual([1, '', { error: { code: 'not-found', message: 'no snapshot snap_nope', exitCode: 1 } }]);
  });

  it('takes latest and unique id prefixes; an ambiguous prefix is a usage error naming the candidates', () => {
    const id = (args: string[]) => (JSON.parse(lifeboat([...args, '--json']).out) as { snapshotId?: string; snapshot?: string }).snapshot;
    expect(id(['stats', 'latest', '--uid', 'cli-user'])).toBe(snapshotId);
    expect(id(['stats', 'latest', '--uid', 'cli-user', '--device', 'cli-phone'])).toBe(snapshotId);
    // The shortest prefix that tells the two apart, with and without `snap_`.
    let n = 1;
    while (firstId.slice(5, 5 + n) === snapshotId.slice(5, 5 + n)) n += 1;
    expect(id(['stats', snapshotId.slice(5, 5 + n)])).toBe(snapshotId);
    expect(id(['stats', firstId.slice(0, 5 + n)])).toBe(firstId);
    const ambiguous = lifeboat(['stats', 'snap_']);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.err).toMatch(/^lifeboat: invalid-argument: snapshot id prefix snap_ is ambiguous: it matches /);
    for (const candidate of [snapshotId, firstId]) expect(ambiguous.err).toContain(candidate);
    expect(lifeboat(['stats', 'latest'])).toMatchObject({ code: 2, err: expect.stringContaining('`latest` needs --uid') });
    expect(lifeboat(['stats', 'latest', '--uid', 'nobody'])).toMatchObject({ code: 1, err: 'lifeboat: not-found: user nobody has no snapshot\n' });
    // Another user's snapshot is not found for --uid.
    expect(lifeboat(['stats', snapshotId, '--uid', 'nobody'])).toMatchObject({ code: 1, err: expect.stringMatching(/^lifeboat: not-found: /) });
  });

  it('restores what it can from a damaged snapshot: exit 3, the failed item in the report', () => {
    const opened = openData(data);
    let blob = '';
    return (async () => {
      try {
        for await (const { item } of restoreItems(opened.content, (await opened.store.getSnapshot(snapshotId)) as Snapshot, { types: ['deviceInfo'], itemsOnly: true })) blob = item.blob as string;
      } finally {
        opened.close();
      }
      const onDisk = join(data, 'blobs', 'objects', blobKey('cli-user', blob));
      const original = readFileSync(onDisk);
      const flipped = Buffer.from(original);
      flipped[flipped.length - 3] = (flipped[flipped.length - 3] ?? 0) ^ 0xff;
      writeFileSync(onDisk, flipped);
      try {
        const to = join(dir, 'damaged');
        const restore = lifeboat(['restore', snapshotId, '--to', to]);
        expect(restore.code).toBe(3);
        expect(restore.out).toContain('Restored 301 contacts (0 skipped at backup)');
        expect(restore.out).toMatch(/Partial restore: 1 item\(s\) and 0 file\(s\) failed[^\n]*\n  data-loss deviceInfo:deviceInfo: /);
        expect(JSON.parse(readFileSync(join(to, 'restore-report.json'), 'utf8'))).toMatchObject({ partial: true, failed: [{ type: 'deviceInfo', sourceId: 'deviceInfo', code: 'data-loss' }] });
        expect(readFileSync(join(to, 'contacts.ndjson'), 'utf8').trim().split('\n')).toHaveLength(301);
        const json = lifeboat(['restore', snapshotId, '--to', join(dir, 'damaged-json'), '--json']);
        expect([json.code, (JSON.parse(json.out) as { failed: unknown[] }).failed.length]).toEqual([3, 1]);
        const verify = lifeboat(['verify', snapshotId]);
        expect(verify.code).toBe(1);
        expect(verify.out).toMatch(/1 problem\(s\)\n  corrupt-blob /);
      } finally {
        writeFileSync(onDisk, original);
      }
    })();
  });

  it('shows help for every command, and documents the exit codes', () => {
    const help = lifeboat(['help']);
    expect(help.code).toBe(0);
    for (const spec of COMMANDS) expect(help.out).toContain(`  ${spec.name} `);
    for (const line of ['0  success', '1  failure', '2  usage error', '3  partial restore']) expect(help.out).toContain(line);
    expect(lifeboat(['--help']).out).toBe(help.out);
    for (const spec of COMMANDS) {
      const one = lifeboat(['help', spec.name]);
      expect([spec.name, one.code, one.out.startsWith(`Usage: lifeboat ${spec.name}`)]).toEqual([spec.name, 0, true]);
      for (const option of Object.keys(spec.options)) expect(one.out).toContain(`--${option}`);
    }
    for (const name of ['restore', 'diff', 'forget']) expect(lifeboat([name, '--help']).out).toBe(lifeboat(['help', name]).out);
    expect(lifeboat(['--version']).out).toBe(`lifeboat 0.1.0 (node ${process.version})\n`);
    // No command: the usage, exit 2.
    const bare = spawnSync(process.execPath, [CLI], { env: userEnv(), encoding: 'utf8' });
    expect([bare.status, bare.stdout]).toEqual([2, help.out]);
  });

  it('answers bad usage with one line and exit code 2, an unknown snapshot with exit 1, and a stack only with --debug', () => {
    for (const args of [['jobs', '--status', 'exploded'], ['restore', 'snap_x'], ['verify'], ['serve', '--port', '70000'], ['frobnicate'], ['jobs', '--uid', 'u', '--bogus'], ['diff', 'a'], ['stats'], ['restore', 'x', '--to', 'y', '--types', 'photos'], ['help', 'frobnicate']]) {
      const r = lifeboat(args);
      expect([args.join(' '), r.code]).toEqual([args.join(' '), 2]);
      expect(r.err).toMatch(/^lifeboat: invalid-argument: [^\n]+\n$/);
    }
    // --json where a command prints no data is an unknown option too, reported as JSON since it was asked for.
    const serveJson = lifeboat(['serve', '--json']);
    expect([serveJson.code, JSON.parse(serveJson.err)]).toEqual([2, { error: { code: 'invalid-argument', message: "Unknown option '--json'.", exitCode: 2 } }]);
    expect(lifeboat(['verify', 'snap_missing'])).toMatchObject({ code: 1, err: 'lifeboat: not-found: no snapshot snap_missing\n' });
    const debug = lifeboat(['verify', 'snap_missing', '--debug']);
    expect(debug.code).toBe(1);
    expect(debug.err.split('\n')[0]).toBe('lifeboat: not-found: no snapshot snap_missing');
    expect(debug.err).toMatch(/\n\s+at /);
  });

  it('shows progress only when stdout is a terminal', () => {
    // Piped (as every run above): the result alone, no carriage returns or escape codes.
    for (const args of [['verify', snapshotId], ['restore', snapshotId, '--to', join(dir, 'piped')], ['gc', '--uid', 'cli-user', '--dry-run']]) {
      const r = lifeboat(args);
      expect([args[0], /[\r\x1b]/.test(r.out + r.err)]).toEqual([args[0], false]);
    }
    // On a terminal (util-linux `script` gives the command one).
    const probe = spawnSync('script', ['--version'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      console.warn('skipped the terminal half: `script` (util-linux) is not installed');
      return;
    }
    const command = [process.execPath, CLI, 'restore', snapshotId, '--to', join(dir, 'tty'), '--data', data].map((a) => `'${a}'`).join(' ');
    // A terminal wide enough for the whole line: the bar is cut to the width, and a snapshot id
    // of a job created under an SDK key (per user, `k` + 40 hex) fills most of 80 columns.
    const tty = spawnSync('script', ['-qec', `stty cols 200; ${command}`, '/dev/null'], { env: userEnv(), encoding: 'utf8' });
    expect(tty.status).toBe(0);
    expect(tty.stdout).toMatch(/\r\x1b\[Krestore snap_\S+ \[[#.]{20}\] +\d+% \d+\/302/);
    expect(tty.stdout).toContain('Restored 301 contacts');
  });

  it('forgets what the user\'s retention policy does not keep, with the reasons for what it keeps', async () => {
    const settings = new FolderBlobStore(join(data, 'blobs'));
    await saveRetentionPolicy(settings, 'cli-user', { keepLast: 1, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 });
    const dry = lifeboat(['forget', '--uid', 'cli-user', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('keep last 1, daily 0, weekly 0, monthly 0, per device and type\n');
    expect(dry.out).toMatch(new RegExp(`keep 1 snapshot\\(s\\):\\n  ${snapshotId} .* cli-phone/contacts: last 1; cli-phone/deviceInfo: last 1\\n`));
    expect(dry.out).toMatch(new RegExp(`would forget 1 snapshot\\(s\\):\\n  ${firstId} `));
    expect(lifeboat(['snapshots', '--uid', 'cli-user', '--json']).out).toContain(firstId);
    const done = JSON.parse(lifeboat(['forget', '--uid', 'cli-user', '--json']).out) as { dryRun: boolean; isDefault: boolean; forget: Array<{ id: string }>; keep: Array<{ id: string; reasons: string[] }> };
    expect(done).toMatchObject({ dryRun: false, isDefault: false, forget: [{ id: firstId }], keep: [{ id: snapshotId, reasons: ['cli-phone/contacts: last 1', 'cli-phone/deviceInfo: last 1'] }] });
    expect((JSON.parse(lifeboat(['snapshots', '--uid', 'cli-user', '--json']).out) as Array<{ id: string }>).map((x) => x.id)).toEqual([snapshotId]);
    expect(lifeboat(['stats', firstId])).toMatchObject({ code: 1, err: `lifeboat: not-found: no snapshot ${firstId}\n` });
  });
});
