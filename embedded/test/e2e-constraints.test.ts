/**
 * Device constraints end to end: a fake DeviceState drives a real backup against the embedded
 * server, and the server's job record shows the pause and its reason.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackupClient, type BackupJob, type BackupProgress } from '@lifeboat/client-sdk';
import { silentLogger } from '@lifeboat/engine/ports';
import { FakeDevice } from '../../client-sdk/test/fake-device';
import { createToken } from '../src/auth/tokens';
import { demoContacts, demoDeviceInfo } from '../src/demo-data';
import { startEmbeddedRuntime, type EmbeddedRuntime } from '../src/runtime';

let dir: string;
let runtime: EmbeddedRuntime;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-constraints-'));
  runtime = await startEmbeddedRuntime({ dataDir: dir, port: 0, logger: silentLogger, tokenSecret: 's', gcAfterBackup: false });
});

afterAll(async () => {
  await runtime.stop();
  rmSync(dir, { recursive: true, force: true });
});

function setup(device: FakeDevice, uid: string) {
  const token = createToken('s', { uid });
  return createBackupClient({ baseUrl: runtime.url, getToken: () => token, deviceId: 'phone', deviceState: device, constraintPollMs: 10 });
}

/** Polls the server until the job matches, so the test sees what any watcher of the record sees. */
async function serverShows(client: ReturnType<typeof setup>, jobId: string, match: (j: BackupJob) => boolean): Promise<BackupJob> {
  for (let i = 0; i < 500; i++) {
    const job = await client.getJob(jobId);
    if (match(job)) return job;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('the server never showed the expected state');
}

describe('constraints end to end', () => {
  it('Wi-Fi lost mid-backup pauses the job with waiting_for_wifi; it resumes by itself when Wi-Fi returns', async () => {
    const device = new FakeDevice();
    const client = setup(device, 'wifi-user');
    const seen: BackupProgress[] = [];
    let jobId = '';
    let paused!: () => void;
    const pausedOnDevice = new Promise<void>((r) => { paused = r; });
    const backup = client.startBackup({
      types: ['contacts', 'deviceInfo'],
      sources: { contacts: demoContacts({ contacts: 600, seed: 11 }), deviceInfo: demoDeviceInfo() },
      onProgress: (p) => {
        seen.push(p);
        jobId = p.jobId ?? jobId;
        if (p.phase === 'uploading' && p.chunksDone === 5 && device.state.network === 'wifi' && !seen.some((s) => s.phase === 'waiting')) device.set({ network: 'cellular' });
        if (p.phase === 'waiting') paused();
      },
    });
    await pausedOnDevice;
    // The chunks sent before the pause show once processed (processing goes on while paused).
    const onServer = await serverShows(client, jobId, (j) => j.status === 'paused' && j.progress.uploadedChunks > 0);
    expect(onServer).toMatchObject({ status: 'paused', pauseReason: 'waiting_for_wifi' });
    const uploadedWhilePaused = onServer.progress.uploadedChunks;
    expect(uploadedWhilePaused).toBeGreaterThan(0);
    expect(uploadedWhilePaused).toBeLessThan(onServer.progress.totalChunks);
    device.set({ network: 'wifi' });
    const started = await backup;
    const done = await client.waitForJob(started.jobId, { intervalMs: 20 });
    expect(done).toMatchObject({ status: 'completed', pauseReason: null });
    expect(seen.filter((p) => p.phase === 'waiting').map((p) => p.pauseReason)).toEqual(['waiting_for_wifi']);
  });

  it('battery below the threshold defers the start; charging lifts it', async () => {
    const device = new FakeDevice({ batteryPercent: 12, charging: false });
    const client = setup(device, 'battery-user');
    let jobId = '';
    let waiting!: () => void;
    const deferred = new Promise<void>((r) => { waiting = r; });
    const backup = client.startBackup({
      types: ['deviceInfo'],
      options: { minBatteryPercent: 30 },
      sources: { deviceInfo: demoDeviceInfo() },
      onProgress: (p) => { jobId = p.jobId ?? jobId; if (p.phase === 'waiting') waiting(); },
    });
    await deferred;
    const onServer = await serverShows(client, jobId, (j) => j.status === 'paused');
    expect(onServer).toMatchObject({ pauseReason: 'battery_low', progress: { totalChunks: 0, bytesUploaded: 0 } });
    device.set({ charging: true });
    const started = await backup;
    expect((await client.waitForJob(started.jobId, { intervalMs: 20 })).status).toBe('completed');
  });

  it('low storage pauses with storage_low; an abort while waiting leaves the job paused for later', async () => {
    const device = new FakeDevice({ freeStorageBytes: 1000 });
    const client = setup(device, 'storage-user');
    const controller = new AbortController();
    let jobId = '';
    const backup = client.startBackup({
      types: ['deviceInfo'],
      sources: { deviceInfo: demoDeviceInfo() },
      signal: controller.signal,
      onProgress: (p) => { jobId = p.jobId ?? jobId; if (p.phase === 'waiting') controller.abort(); },
    });
    await expect(backup).rejects.toMatchObject({ code: 'backup/aborted' });
    expect(await client.getJob(jobId)).toMatchObject({ status: 'paused', pauseReason: 'storage_low' });
  });
});
