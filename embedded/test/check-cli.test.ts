/**
 * `lifeboat check` as users run it (the compiled CLI) over a data folder an embedded runtime
 * filled: `--json` parsed and checked for one user and for all, `--read-data[=N%]`, exit codes (0
 * clean, 1 while problems remain, 2 for bad usage), progress only on a terminal, and `--repair`
 * after which the next backup heals what the device still has and a second check is clean.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createBackupClient } from '@lifeboat/client-sdk';
import { blobKey, contentStoreOf, loadManifest, type CheckReport, type Snapshot } from '@lifeboat/engine/core';
import { silentLogger } from '@lifeboat/engine/ports';
import { createToken } from '../src/auth/tokens';
import { demoContacts, demoDeviceInfo } from '../src/demo-data';
import { startEmbeddedRuntime } from '../src/runtime';

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'embedded', 'lib', 'cli.js');
let dir = '';
let data = '';
let lost = '';
const snapshots: Record<string, Snapshot[]> = { uma: [], vic: [] };

/** The environment of a user who set nothing: no malloc settings, no Lifeboat variables. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('MALLOC_') && !k.startsWith('LIFEBOAT_')) env[k] = v;
  return env;
}

function lifeboat(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args, '--data', data], { env: userEnv(), encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function json(args: string[]): { code: number | null; report: CheckReport } {
  const r = lifeboat([...args, '--json']);
  return { code: r.code, report: JSON.parse(r.out) as CheckReport };
}

/** One backup of each user through the SDK, on a runtime over the data folder that stops afterwards. */
async function backUp(model: string): Promise<void> {
  const runtime = await startEmbeddedRuntime({ dataDir: data, port: 0, logger: silentLogger, gcAfterBackup: false, schedulerIntervalMs: 0, tokenSecret: 's' });
  try {
    for (const uid of Object.keys(snapshots)) {
      const token = createToken('s', { uid });
      const client = createBackupClient({ baseUrl: runtime.url, getToken: () => token, deviceId: `${uid}-phone` });
      const started = await client.startBackup({ types: ['contacts', 'deviceInfo'], sources: { contacts: demoContacts({ contacts: 40, seed: 5 }), deviceInfo: { ...demoDeviceInfo(), model } } });
      const job = await client.waitForJob(started.jobId, { intervalMs: 20 });
      expect([uid, job.status, job.lastError?.message]).toEqual([uid, 'completed', undefined]);
      snapshots[uid]?.push(await client.getSnapshot(job.snapshotId as string));
    }
    if (!lost) {
      const first = snapshots['uma']?.[0] as Snapshot;
      lost = (await loadManifest(contentStoreOf(runtime.deps), first)).items.find((i) => i.type === 'contacts')?.blob as string;
    }
  } finally {
    await runtime.stop();
  }
}

beforeAll(async () => {
  // The CLI runs compiled, as `npm run lifeboat` runs it.
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', join(ROOT, 'embedded')], { stdio: 'inherit' });
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-check-cli-'));
  data = join(dir, 'data');
  await backUp('Pixel 8');
  await backUp('Pixel 9');
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('lifeboat check', () => {
  it('is clean and exits 0: every user without --uid, one with it', () => {
    const all = json(['check']);
    expect(all.code).toBe(0);
    expect(all.report.ok).toBe(true);
    expect(all.report.users.map((u) => [u.uid, u.ok, u.snapshots, u.problems.length])).toEqual([['uma', true, 2, 0], ['vic', true, 2, 0]]);
    const one = lifeboat(['check', '--uid', 'vic']);
    expect(one.code).toBe(0);
    expect(one.out).toMatch(/^vic: OK \(2 snapshots, \d+ index entries, \d+ manifest objects, \d+ content blobs \(0 re-read\)\)\n$/);
  });

  it('re-reads a share of the content blobs with --read-data[=N%]', () => {
    const whole = json(['check', '--uid', 'vic', '--read-data']).report.users[0];
    expect(whole).toMatchObject({ readDataPercent: 100, ok: true });
    expect(whole?.contentRead).toBe(whole?.contentBlobs);
    const some = json(['check', '--uid', 'vic', '--read-data=50%']).report.users[0];
    expect(some?.readDataPercent).toBe(50);
    expect(some?.contentRead).toBeGreaterThanOrEqual(1);
    for (const bad of [['--read-data=abc'], ['--read-data=0%'], ['--read-data=150'], ['--read-data', '10%'], ['--uid', '']]) {
      const r = lifeboat(['check', ...bad]);
      expect([bad.join(' '), r.code]).toEqual([bad.join(' '), 2]);
      expect(r.err).toMatch(/^lifeboat: invalid-argument: [^\n]+\n$/);
    }
  });

  it('names a lost blob with what it breaks and exits 1; --repair drops what relies on it; the next backup heals it', async () => {
    rmSync(join(data, 'blobs', 'objects', blobKey('uma', lost)));
    const [s1, s2] = snapshots['uma'] as Snapshot[];
    const found = json(['check']);
    expect(found.code).toBe(1);
    expect(found.report.ok).toBe(false);
    const uma = found.report.users.find((u) => u.uid === 'uma');
    expect(uma?.problems).toEqual([expect.objectContaining({ kind: 'missing-blob', ref: lost, snapshots: [s2?.id, s1?.id], remains: true })]);
    expect(uma?.problems[0]?.indexEntries.length).toBeGreaterThan(0);
    expect(found.report.users.find((u) => u.uid === 'vic')?.ok).toBe(true);
    const text = lifeboat(['check', '--uid', 'uma']);
    expect(text.code).toBe(1);
    expect(text.out).toContain(`  missing-blob ${lost.slice(0, 16)}…: blob ${lost} is missing`);
    expect(text.out).toContain(`    breaks 2 snapshots: ${s2?.id}, ${s1?.id}`);
    expect(text.out).toMatch(/ {4}the next backup of \d+ chunks? would rely on it: contacts:/);

    const repaired = json(['check', '--uid', 'uma', '--repair']);
    // The snapshots lost data: they stay marked until the content is stored again.
    expect(repaired.code).toBe(1);
    expect(repaired.report.users[0]?.repair).toMatchObject({ droppedIndexEntries: uma?.problems[0]?.indexEntries.length, markedSnapshots: 2, stoppedEarly: false });
    expect(lifeboat(['snapshots', '--uid', 'uma', '--json']).out).toContain('"health":{');

    await backUp('Pixel 9');
    const second = json(['check']);
    expect([second.code, second.report.ok]).toEqual([0, true]);
  }, 120_000);

  it('draws progress only on a terminal', () => {
    const piped = lifeboat(['check']);
    expect(/[\r\x1b]/.test(piped.out + piped.err)).toBe(false);
    const probe = spawnSync('script', ['--version'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      console.warn('skipped the terminal half: `script` (util-linux) is not installed');
      return;
    }
    const command = [process.execPath, CLI, 'check', '--data', data].map((a) => `'${a}'`).join(' ');
    const tty = spawnSync('script', ['-qec', command, '/dev/null'], { env: userEnv(), encoding: 'utf8' });
    expect(tty.status).toBe(0);
    expect(tty.stdout).toMatch(/\r\x1b\[Kcheck uma: snapshots \d/);
    expect(tty.stdout).toContain('vic: OK');
  });
});
