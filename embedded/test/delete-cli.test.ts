/**
 * `lifeboat delete-snapshot` and `lifeboat delete-user` as admins run them (the compiled CLI) on
 * a data folder a server filled: a snapshot goes from the listing with its data; a user goes
 * whole, another stays; confirmation and the settle time are asked for; `--json` prints the report.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createBackupClient } from '@lifeboat/client-sdk';
import { silentLogger } from '@lifeboat/engine/ports';
import { createToken } from '../src/auth/tokens';
import { openData } from '../src/cli/data';
import { startEmbeddedRuntime } from '../src/runtime';

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'embedded', 'lib', 'cli.js');
let dir: string;
let data: string;
const snapshots: Record<string, string[]> = {};

beforeAll(async () => {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', join(ROOT, 'embedded')], { stdio: 'inherit' });
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-delete-cli-'));
  data = join(dir, 'data');
  const runtime = await startEmbeddedRuntime({ dataDir: data, port: 0, logger: silentLogger, gcAfterBackup: false, tokenSecret: 's' });
  try {
    for (const uid of ['carol', 'dave']) {
      const token = createToken('s', { uid });
      const client = createBackupClient({ baseUrl: runtime.url, getToken: () => token, deviceId: `${uid}-phone` });
      snapshots[uid] = [];
      for (const n of [1, 2]) {
        const started = await client.startBackup({ types: ['contacts'], sources: { contacts: Array.from({ length: 5 * n }, (_, i) => ({ id: `${uid}-${n}-${i}`, name: { display: `${uid} ${i}` } })) } });
        snapshots[uid]?.push((await client.waitForJob(started.jobId, { intervalMs: 20 })).snapshotId as string);
      }
      await client.registerDevice(`token-${uid}`);
    }
  } finally {
    await runtime.stop();
  }
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function lifeboat(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args, '--data', data], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Paths under the data folder's objects that name `uid`. */
function objectsOf(uid: string): string[] {
  return (readdirSync(join(data, 'blobs', 'objects'), { recursive: true }) as string[]).filter((p) => p.split('/').includes(uid));
}

describe('lifeboat delete-snapshot and delete-user', () => {
  it('deletes one snapshot, and deleting it again is harmless', () => {
    const [first] = snapshots['carol'] as string[];
    const deleted = lifeboat(['delete-snapshot', first as string, '--grace-hours', '0', '--json']);
    expect(deleted.code).toBe(0);
    expect(JSON.parse(deleted.out)).toMatchObject({ snapshotId: first, deleted: true, gc: { status: 'done' } });
    const listed = JSON.parse(lifeboat(['snapshots', '--uid', 'carol', '--json']).out) as Array<{ id: string }>;
    expect(listed.map((s) => s.id)).toEqual([snapshots['carol']?.[1]]);
    expect(lifeboat(['delete-snapshot', first as string]).code).toBe(1);
  });

  it('asks for --yes and --uid, then deletes the user whole and nothing of another', () => {
    expect(lifeboat(['delete-user', '--uid', 'carol'])).toMatchObject({ code: 2, err: expect.stringMatching(/cannot be undone: add --yes/) });
    expect(lifeboat(['delete-user', '--yes']).code).toBe(2);
    expect(objectsOf('carol').length).toBeGreaterThan(0);
    const daveBefore = objectsOf('dave');
    const run = lifeboat(['delete-user', '--uid', 'carol', '--yes', '--settle-minutes', '0', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.out)).toMatchObject({ uid: 'carol', status: 'done', reason: 'admin', removed: { devices: 1 } });
    expect(objectsOf('carol')).toEqual([]);
    const d = openData(data);
    try {
      const rows = d.db.prepare("SELECT 'jobs' AS t, doc FROM jobs UNION ALL SELECT 'snapshots', doc FROM snapshots UNION ALL SELECT 'chunk_index', doc FROM chunk_index UNION ALL SELECT 'schedules', doc FROM schedules").all() as Array<{ t: string; doc: string }>;
      expect(rows.filter((r) => r.doc.includes('carol'))).toEqual([]);
      expect(rows.filter((r) => r.doc.includes('dave')).length).toBeGreaterThan(0);
    } finally {
      d.close();
    }
    expect(objectsOf('dave')).toEqual(daveBefore);
    // Again: nothing left to remove; with the default settle time it waits before it ends.
    const again = lifeboat(['delete-user', '--uid', 'carol', '--yes']);
    expect(again).toMatchObject({ code: 0, out: expect.stringMatching(/all data of carol is deleted and unreadable[\s\S]*stays until/) });
    expect(lifeboat(['delete-user', '--uid', 'carol', '--yes', '--settle-minutes', '0']).out).toMatch(/^deleted all data of carol/);
  });
});
