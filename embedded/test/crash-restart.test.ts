/**
 * Crash tests on the embedded runtime (issue 17, "Checks"): the server process is killed with
 * SIGKILL at each of four points, after create before kickoff, mid-upload, during the last attempt
 * of a step and during GC, and started again on the same folder and port. After each restart the
 * job must end `completed` or `failed` with a cause within a minute (not after a 540 s lease), the
 * user's next backup must succeed, and a restore of it must give back every contact backed up.
 * The device is an SDK client in this process: it rides out the restart with its retries.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackupClient, type BackupClient, type BackupClientOptions } from '@lifeboat/client-sdk';
import type { BackupJob } from '@lifeboat/engine/core';
import { openDatabase } from '../src/adapters/sqlite-database';
import { SqliteTaskQueue } from '../src/adapters/sqlite-task-queue';
import { createToken } from '../src/auth/tokens';
import { freePort, ServerProcess } from './helpers/server-process';

const SECRET = 'crash-restart';
const MINUTE = 60_000;
let dir: string;
let faults: string;
let server: ServerProcess;
const figures: string[] = [];
let kills = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-crash-'));
  faults = join(dir, 'faults');
  mkdirSync(faults);
  server = new ServerProcess({ dataDir: join(dir, 'data'), faults, secret: SECRET, gcLeaseMs: 10_000 }, await freePort(), dir);
  await server.start();
}, 60_000);

afterAll(async () => {
  await server?.stop();
  if (figures.length > 0) process.stdout.write(`crash test (${kills} kills):\n  ${figures.join('\n  ')}\n`);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Contacts of one user, `version` changing some notes; about `notes` bytes of notes each. */
function contacts(uid: string, count: number, version = 0, notes = 40) {
  return Array.from({ length: count }, (_, i) => ({
    id: `${uid}-c${String(i).padStart(4, '0')}`,
    name: { display: `Contact ${i} of ${uid}` },
    note: `${i % 10 === 0 ? `v${version} ` : ''}${String(i % 97).repeat(notes)}`,
  }));
}

function client(uid: string, options: Partial<BackupClientOptions> = {}): BackupClient {
  const token = createToken(SECRET, { uid });
  return createBackupClient({ baseUrl: server.url, getToken: () => token, deviceId: `${uid}-phone`, ...options });
}

async function waitFor(check: () => boolean, what: string, ms = MINUTE): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${server.log.slice(-20).join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Polls the job until it is completed, failed or cancelled. */
async function settled(c: BackupClient, jobId: string): Promise<BackupJob> {
  const job = await c.waitForJob(jobId, { intervalMs: 50, maxIntervalMs: 200 });
  return job as unknown as BackupJob;
}

/** Kills the server (already dead if it killed itself), marks the fault done, starts it again. */
async function restart(uid: string, alreadyDead = false): Promise<number> {
  if (!alreadyDead) await server.kill();
  else await server.exited();
  kills += 1;
  writeFileSync(join(faults, `${uid}.killed`), '');
  return server.start();
}

/** The user's next backup completes, and a restore of it gives back every contact as sent. */
async function nextBackupAndRestore(uid: string, count: number): Promise<void> {
  const c = client(uid);
  const source = contacts(uid, count, 1);
  const started = await c.startBackup({ types: ['contacts'], options: { wifiOnly: false }, sources: { contacts: source } });
  const job = await settled(c, started.jobId);
  expect(job.status).toBe('completed');
  const restored = new Map<string, { name?: { display?: string }; note?: string }>();
  await c.restore({
    snapshotId: job.snapshotId as string,
    sink: {
      open(item) {
        const parts: Uint8Array[] = [];
        return {
          write: (bytes) => void parts.push(bytes.slice()),
          close: () => void restored.set(item.sourceId, JSON.parse(Buffer.concat(parts).toString('utf8'))),
        };
      },
    },
  });
  expect(restored.size).toBe(source.length);
  for (const contact of source) {
    expect(restored.get(contact.id)).toMatchObject({ name: { display: contact.name.display }, note: contact.note });
  }
}

/** Records how long after the restart the job ended, and checks the bound. */
function endedWithinAMinute(label: string, job: BackupJob, restartedAt: number, endedAt: number): void {
  const after = Math.max(0, endedAt - restartedAt);
  figures.push(`${label}: job ${job.status}${job.lastError ? ` (${job.lastError.message})` : ''}, ended ${(after / 1000).toFixed(1)} s after the restart`);
  expect(['completed', 'failed']).toContain(job.status);
  if (job.status === 'failed') expect(job.lastError?.message).toBeTruthy();
  expect(after).toBeLessThan(MINUTE);
}

describe('the server killed with SIGKILL, then restarted', () => {
  it('after the job is created and before its kickoff is queued', async () => {
    const uid = 'kill-after-create-1';
    const c = client(uid);
    // The server kills itself as the job is stored; the SDK's retry meets the restarted server
    // with the same job id, and the job created before the crash is the one that runs.
    const device = c.startBackup({ types: ['contacts'], options: { wifiOnly: false }, sources: { contacts: contacts(uid, 200) } });
    const restartedAt = await restart(uid, true);
    const started = await device;
    const job = await settled(c, started.jobId);
    endedWithinAMinute('after create, before kickoff', job, restartedAt, Date.now());
    expect(job.status).toBe('completed');
    const jobs: BackupJob[] = [];
    for await (const j of c.listJobs()) jobs.push(j as unknown as BackupJob);
    expect(jobs.map((j) => j.id)).toEqual([started.jobId]);
    await nextBackupAndRestore(uid, 200);
  }, 120_000);

  it('in the middle of an upload', async () => {
    const uid = 'mid-upload-1';
    // About 600 KB of contacts in chunks of up to 256 KiB, sent one piece at a time.
    const c = client(uid, { uploadPieceSize: 256 * 1024, maxChunkBytes: 256 * 1024, parallelUploads: 1 });
    let restarting: Promise<number> | null = null;
    const started = await c.startBackup({
      types: ['contacts'],
      options: { wifiOnly: false },
      sources: { contacts: contacts(uid, 600, 0, 1000) },
      onProgress: (p) => {
        if (!restarting && p.bytesTotal > 0 && p.bytesUploaded >= 0.4 * p.bytesTotal) restarting = restart(uid);
      },
    });
    expect(restarting).not.toBeNull();
    const restartedAt = await (restarting as unknown as Promise<number>);
    const job = await settled(c, started.jobId);
    endedWithinAMinute('mid-upload', job, restartedAt, Date.now());
    expect(job.status).toBe('completed');
    await nextBackupAndRestore(uid, 100);
  }, 120_000);

  it('during the last attempt of a step', async () => {
    const uid = 'last-attempt-1';
    const c = client(uid);
    const started = await c.startBackup({ types: ['contacts'], options: { wifiOnly: false }, sources: { contacts: contacts(uid, 5) } });
    // Attempts 1 and 2 fail (transient), the third and last hangs: the server dies under it.
    await waitFor(() => existsSync(join(faults, `${uid}.last-attempt`)), 'the last attempt');
    const restartedAt = await restart(uid);
    const job = await settled(c, started.jobId);
    endedWithinAMinute('during the last attempt', job, restartedAt, Date.now());
    // The restart took the task back at once and did not count the crash as an attempt.
    expect(job.status).toBe('completed');
    const db = openDatabase(join(dir, 'data', 'lifeboat.db'));
    try {
      const tasks = new SqliteTaskQueue({ db }).list('processChunk').filter((t) => t.payload['jobId'] === started.jobId);
      // Every chunk's task ended done; the one killed on its last attempt ran it again, uncounted.
      expect(tasks.length).toBeGreaterThan(0);
      for (const task of tasks) expect(task.state).toBe('done');
      expect(tasks).toContainEqual(expect.objectContaining({ retryCount: 2, interruptions: 1 }));
    } finally {
      db.close();
    }
    await nextBackupAndRestore(uid, 50);
  }, 120_000);

  it('during garbage collection', async () => {
    const uid = 'kill-in-gc-1';
    const c = client(uid);
    const started = await c.startBackup({ types: ['contacts'], options: { wifiOnly: false }, sources: { contacts: contacts(uid, 50) } });
    // The backup completes; the GC run after it takes its lease and the server dies mid-run.
    await waitFor(() => existsSync(join(faults, `${uid}.in-gc`)), 'the GC run');
    const restartedAt = await restart(uid);
    const job = await settled(c, started.jobId);
    endedWithinAMinute('during GC', job, restartedAt, Date.now());
    expect(job.status).toBe('completed');
    // The dead run's lease fences the user's next backup until it runs out; the SDK rides it out.
    await nextBackupAndRestore(uid, 50);
  }, 120_000);
});
