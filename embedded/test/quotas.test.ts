/**
 * Per-user quotas through the SDK and the embedded server: each quota refuses the next call with
 * `resource-exhausted` (`backup/quota-exceeded`, not retried) whose `quota` names it, and nothing
 * already stored is lost: the user's snapshots still verify and restore, and the refused call
 * created no job and registered no chunk.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackupClientError, createBackupClient, type BackupClient } from '@lifeboat/client-sdk';
import { silentLogger } from '@lifeboat/engine/ports';
import type { UserQuotas } from '@lifeboat/engine/core';
import { createToken } from '../src/auth/tokens';
import { demoContacts } from '../src/demo-data';
import { startEmbeddedRuntime, type EmbeddedRuntime } from '../src/runtime';
import { halfDoneBackup } from './helpers/admin-fixtures';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-quotas-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function withRuntime(name: string, quotas: Partial<UserQuotas>, body: (rt: EmbeddedRuntime, client: (uid: string) => BackupClient) => Promise<void>): Promise<void> {
  const rt = await startEmbeddedRuntime({ dataDir: join(dir, name), port: 0, logger: silentLogger, tokenSecret: 's', gcAfterBackup: false, quotas });
  try {
    await body(rt, (uid) => createBackupClient({ baseUrl: rt.url, getToken: () => createToken('s', { uid }), deviceId: `${uid}-phone` }));
  } finally {
    await rt.stop();
  }
}

async function refusal(promise: Promise<unknown>): Promise<BackupClientError> {
  const err = await promise.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(BackupClientError);
  return err as BackupClientError;
}

async function backUp(client: BackupClient, contacts: number): Promise<string> {
  const { jobId } = await client.startBackup({ types: ['contacts'], sources: { contacts: demoContacts({ contacts }) } });
  const job = await client.waitForJob(jobId, { intervalMs: 20 });
  expect(job.status).toBe('completed');
  return job.snapshotId as string;
}

async function jobsOf(rt: EmbeddedRuntime, uid: string): Promise<number> {
  return (await rt.deps.store.listJobs({ uid, limit: 100 })).items.length;
}

describe('quotas', () => {
  it('concurrentJobs refuses a backup while the user has that many jobs under way', async () => {
    await withRuntime('concurrent', { concurrentJobs: 1 }, async (rt, client) => {
      await halfDoneBackup(rt.url, createToken('s', { uid: 'ann' }), 'ann-phone', 2, 1);
      const err = await refusal(client('ann').startBackup({ types: ['contacts'], sources: { contacts: demoContacts({ contacts: 5 }) } }));
      expect(err).toMatchObject({ code: 'backup/quota-exceeded', quota: 'concurrentJobs', retryable: false, details: { limit: 'concurrentJobs', max: 1, current: 1 } });
      expect(err.message).toContain('concurrentJobs');
      expect(await jobsOf(rt, 'ann')).toBe(1);
      // Another user is not held back by ann's jobs.
      await backUp(client('ben'), 5);
    });
  });

  it('backupsPerDay refuses the next backup of the day; the day\'s snapshots stay', async () => {
    await withRuntime('per-day', { backupsPerDay: 2 }, async (rt, client) => {
      const ann = client('ann');
      const snapshots = [await backUp(ann, 10), await backUp(ann, 12)];
      const err = await refusal(ann.startBackup({ types: ['contacts'], sources: { contacts: demoContacts({ contacts: 14 }) } }));
      expect(err).toMatchObject({ code: 'backup/quota-exceeded', quota: 'backupsPerDay', details: { max: 2, current: 2 } });
      expect(await jobsOf(rt, 'ann')).toBe(2);
      for (const id of snapshots) expect((await ann.verifySnapshot(id)).ok).toBe(true);
    });
  });

  it('storedBytes refuses a backup once the user\'s blobs take the quota; what they hold restores', async () => {
    await withRuntime('stored', { storedBytes: 2000 }, async (rt, client) => {
      const ann = client('ann');
      const snapshot = await backUp(ann, 200);
      const err = await refusal(ann.startBackup({ types: ['contacts'], sources: { contacts: demoContacts({ contacts: 10 }) } }));
      expect(err).toMatchObject({ code: 'backup/quota-exceeded', quota: 'storedBytes', details: { max: 2000 } });
      expect((err.details?.['current'] as number) >= 2000).toBe(true);
      expect(await jobsOf(rt, 'ann')).toBe(1);
      const restored: string[] = [];
      const result = await ann.restore({ snapshotId: snapshot, sink: { open: (item) => (restored.push(item.sourceId), { write: () => undefined, close: () => undefined }) } });
      expect(result.failed).toEqual([]);
      expect(restored.length).toBe(200);
    });
  });

  it('bytesPerJob refuses a registration that would pass it, registering none of its chunks', async () => {
    await withRuntime('per-job', { bytesPerJob: 4000 }, async (rt, client) => {
      const ann = client('ann');
      await backUp(ann, 5);
      const err = await refusal(ann.startBackup({ types: ['contacts'], sources: { contacts: demoContacts({ contacts: 300 }) } }));
      expect(err).toMatchObject({ code: 'backup/quota-exceeded', quota: 'bytesPerJob', details: { max: 4000 } });
      const refused = (await rt.deps.store.listJobs({ uid: 'ann', limit: 10 })).items.find((j) => j.status !== 'completed');
      expect(refused).toBeDefined();
      const totals = await rt.deps.store.chunkTotals(refused?.id as string);
      expect(Object.values(totals).reduce((n, t) => n + t.chunks, 0)).toBe(0);
      expect((await rt.deps.store.knownTotals(refused?.id as string)).chunks).toBe(0);
    });
  });
});
