/**
 * The stale-job sweeper on the embedded runtime: the SQLite finder answers the sweeper's query,
 * a runtime that starts reconciles every queued and running job with the task queue (a job whose
 * kickoff a crash lost starts at once), and the timer kicks a job left queued while it runs.
 * A job "whose kickoff was lost" is stored without the job-created trigger, as a crash between
 * the create and its enqueue leaves it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackupOptions, newJob, type BackupJob } from '@lifeboat/engine/core';
import { silentLogger } from '@lifeboat/engine/ports';
import { openDatabase } from '../src/adapters/sqlite-database';
import { SqliteJobStore } from '../src/adapters/sqlite-job-store';
import { sqliteStaleJobFinder } from '../src/adapters/sqlite-stale-job-finder';
import { ensureDataDir } from '../src/data-dir';
import { startEmbeddedRuntime, type EmbeddedRuntime, type EmbeddedRuntimeOptions } from '../src/runtime';

let dir: string;
const runtimes: EmbeddedRuntime[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-sweeper-'));
});

afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((r) => r.stop()));
  rmSync(dir, { recursive: true, force: true });
});

function job(id: string, status: BackupJob['status'], updatedAt: number): BackupJob {
  return { ...newJob({ id, uid: 'u', deviceId: 'd', types: ['contacts'], options: BackupOptions.parse({}), trigger: 'manual', scheduleId: null, status, pauseReason: null }, updatedAt), updatedAt };
}

async function start(options: Partial<EmbeddedRuntimeOptions> = {}) {
  const runtime = await startEmbeddedRuntime({ dataDir: join(dir, 'data'), port: 0, logger: silentLogger, tokenSecret: 's', schedulerIntervalMs: 0, gcAfterBackup: false, ...options });
  runtimes.push(runtime);
  return runtime;
}

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500 && !(await check()); i++) await new Promise((r) => setTimeout(r, 20));
}

describe('stale-job sweeper, embedded', () => {
  it('the SQLite finder returns jobs of the statuses asked, updated before the bound, oldest first, at most the limit', async () => {
    const db = openDatabase(join(dir, 'finder.db'));
    try {
      const store = new SqliteJobStore(db);
      const find = sqliteStaleJobFinder(db);
      for (const [id, status, at] of [['job-0000c', 'queued', 30], ['job-0000a', 'running', 10], ['job-0000b', 'queued', 20], ['job-0000d', 'paused', 5], ['job-0000e', 'running', 50]] as const) {
        await store.createJob(status === 'paused' ? { ...job(id, status, at), pauseReason: 'user' } : job(id, status, at));
      }
      expect(await find({ statuses: ['queued', 'running'], updatedBefore: 40, limit: 10 })).toEqual(['job-0000a', 'job-0000b', 'job-0000c']);
      expect(await find({ statuses: ['queued'], updatedBefore: 40, limit: 1 })).toEqual(['job-0000b']);
      expect(await find({ statuses: [], updatedBefore: 40, limit: 1 })).toEqual([]);
      await expect(find({ statuses: ['queued'], updatedBefore: 40, limit: 0 })).rejects.toMatchObject({ code: 'invalid-argument' });
    } finally {
      db.close();
    }
  });

  it('a job whose kickoff a crash lost starts when the runtime starts again', async () => {
    const db = openDatabase(ensureDataDir(join(dir, 'data')).database);
    await new SqliteJobStore(db).createJob(job('lost-kickoff-1', 'queued', Date.now()));
    db.close();
    const runtime = await start();
    await until(async () => (await runtime.deps.store.getJob('lost-kickoff-1'))?.status === 'running');
    expect(await runtime.deps.store.getJob('lost-kickoff-1')).toMatchObject({ status: 'running', attempts: 1 });
    // Reconciled under the kickoff's own id: the one task, never two.
    expect(runtime.queue.list('kickoff').map((t) => t.id)).toEqual(['lost-kickoff-1_kickoff_0']);
  });

  it('while it runs, the timer kicks a job left queued past kickoffAfterMs', async () => {
    const runtime = await start({ staleJobSweep: { intervalMs: 50, kickoffAfterMs: 200 } });
    const store = new SqliteJobStore(runtime.db);
    await store.createJob(job('lost-kickoff-2', 'queued', Date.now()));
    await until(async () => (await runtime.deps.store.getJob('lost-kickoff-2'))?.status === 'running');
    expect(await runtime.deps.store.getJob('lost-kickoff-2')).toMatchObject({ status: 'running' });
  });
});
