/**
 * `lifeboat gc` as users run it (the compiled CLI): Ctrl-C while it deletes releases its lease on
 * the way out (exit 130), so the user's backups are not held up by a run that no longer exists
 * (issue 17, item 4); and it removes the partial uploads of jobs that are no longer live (issue
 * 16, item 7).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { silentLogger } from '@lifeboat/engine/ports';
import { createToken } from '../src/auth/tokens';
import { startEmbeddedRuntime } from '../src/runtime';

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'embedded', 'lib', 'cli.js');
const ORPHANS = 2000;
let dir: string;

beforeAll(() => {
  // The CLI runs compiled, as `npm run lifeboat` runs it.
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', join(ROOT, 'embedded')], { stdio: 'inherit' });
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-gc-int-'));
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * Unreferenced blobs of `uid` written straight in the folder store's format (`LBO1`, no
 * metadata). Returns the file of the first one a sweep deletes (keys are listed in order).
 */
function writeOrphans(data: string, uid: string, n: number): string {
  const files: string[] = [];
  const json = Buffer.from('{}');
  const prefix = Buffer.alloc(8);
  prefix.write('LBO1', 0, 'latin1');
  prefix.writeUInt32BE(json.length, 4);
  for (let i = 0; i < n; i++) {
    const hash = createHash('sha256').update(`orphan ${i}`).digest('hex');
    const folder = join(data, 'blobs', 'objects', 'users', uid, 'blobs', hash.slice(0, 2));
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, hash), Buffer.concat([prefix, json, Buffer.from(`orphan ${i}`)]));
    files.push(join(folder, hash));
  }
  return files.sort()[0] as string;
}

function countFiles(folder: string): number {
  if (!existsSync(folder)) return 0;
  return readdirSync(folder, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
}

describe('lifeboat gc, interrupted', () => {
  it('releases its lease on Ctrl-C and exits 130', async () => {
    const data = join(dir, 'data');
    const firstSwept = writeOrphans(data, 'uma', ORPHANS);
    const leases = join(data, 'blobs', 'objects', 'leases', 'uma', 'gc');
    const child = spawn(process.execPath, [CLI, 'gc', '--uid', 'uma', '--grace-hours', '0', '--data', data], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolveExit) => child.on('exit', (code) => resolveExit(code)));
    // Interrupt once the run (which holds its lease from the start) has begun deleting.
    let interrupted = false;
    while (!interrupted) {
      if (!existsSync(firstSwept)) {
        child.kill('SIGINT');
        interrupted = true;
      } else if (child.exitCode !== null) {
        break;
      } else {
        await new Promise((r) => setTimeout(r, 2));
      }
    }
    const code = await exited;
    expect(interrupted).toBe(true);
    expect(stderr).not.toMatch(/Error|at /);
    expect(code).toBe(130);
    expect(stderr).toMatch(/gc interrupted; its lease is released/);
    expect(countFiles(leases)).toBe(0);
    const left = countFiles(join(data, 'blobs', 'objects', 'users'));
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(ORPHANS);
  }, 60_000);
});

describe('lifeboat gc and partial uploads', () => {
  it('removes the partial uploads of a failed job, and keeps a live job’s', async () => {
    const data = join(dir, 'data-partials');
    const runtime = await startEmbeddedRuntime({ dataDir: data, port: 0, logger: silentLogger, tokenSecret: 's', gcAfterBackup: false, uploadSweepIntervalMs: 0 });
    const call = async (name: string, body: unknown) =>
      ((await (await fetch(`${runtime.url}/${name}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${createToken('s', { uid: 'vic' })}` }, body: JSON.stringify({ data: body }) })).json()) as { result: Record<string, any> }).result;
    const partial = async (seed: number): Promise<{ jobId: string; part: string }> => {
      const bytes = Buffer.alloc(1000, seed);
      const chunk = { id: createHash('sha256').update(bytes).digest('hex'), type: 'contacts', size: bytes.length, items: 1 };
      const jobId = (await call('createBackupJob', { deviceId: 'p', types: ['contacts'] }))['job'].id as string;
      await call('registerChunks', { jobId, chunks: [chunk] });
      const url = (await call('beginChunkUpload', { jobId, chunkId: chunk.id }))['uploadUrl'] as string;
      expect((await fetch(url, { method: 'PUT', headers: { 'content-range': `bytes 0-399/${bytes.length}` }, body: bytes.subarray(0, 400) })).status).toBe(308);
      return { jobId, part: join(data, 'uploads', `${url.slice(url.lastIndexOf('/') + 1)}.part`) };
    };
    const failed = await partial(1);
    const live = await partial(2);
    await runtime.deps.store.runTransaction(async (tx) => {
      const job = await tx.getJob(failed.jobId);
      if (job) tx.setJob({ ...job, status: 'failed', lastError: { code: 'internal', message: 'test', step: 'processChunk', at: Date.now(), retrying: false } });
    });
    await runtime.stop();

    const r = spawnSync(process.execPath, [CLI, 'gc', '--uid', 'vic', '--data', data], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/removed 1 partial upload\(s\) no live job owns/);
    expect(existsSync(failed.part)).toBe(false);
    expect(existsSync(live.part)).toBe(true);
  });
});
