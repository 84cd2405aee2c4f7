/**
 * The SDK's per-user settings through the embedded runtime: a device registers (and withdraws)
 * its push token, and a user reads and sets their retention policy, which the next backups apply.
 */
import { BackupClientError } from '@lifeboat/client-sdk';
import { BlobDeviceRegistry, loadRetentionPolicy } from '@lifeboat/engine/core';
import { demoDeviceInfo } from '../src/demo-data';
import { useTestRuntime } from './helpers/test-runtime';

const t = useTestRuntime('sdk-settings');
const DEFAULTS = { keepLast: 3, keepDaily: 7, keepWeekly: 4, keepMonthly: 12 };

async function snapshotIds(uid: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const s of t.client(uid).listSnapshots()) ids.push(s.id);
  return ids;
}

describe('SDK settings', () => {
  it('registers a device push token, replaces it, and withdraws it', async () => {
    const registry = new BlobDeviceRegistry(t.runtime.deps.blobs);
    const phone = t.client('nora', { deviceId: 'nora-pixel' });
    expect(await phone.registerDevice('fcm-token-1')).toEqual({ deviceId: 'nora-pixel', registered: true });
    expect(await registry.getToken('nora', 'nora-pixel')).toBe('fcm-token-1');
    await phone.registerDevice('fcm-token-2');
    expect(await registry.getToken('nora', 'nora-pixel')).toBe('fcm-token-2');
    // Another user's device of the same name is a different device.
    expect(await registry.getToken('oscar', 'nora-pixel')).toBeNull();
    await expect(phone.registerDevice('')).rejects.toMatchObject({ code: 'backup/invalid-argument' });
    expect(await registry.getToken('nora', 'nora-pixel')).toBe('fcm-token-2');
    expect(await phone.registerDevice(null)).toEqual({ deviceId: 'nora-pixel', registered: false });
    expect(await registry.getToken('nora', 'nora-pixel')).toBeNull();
  });

  it('reads, sets and resets the retention policy; a bad policy is refused and changes nothing', async () => {
    const c = t.client('paula');
    expect(await c.getRetentionPolicy()).toEqual({ policy: DEFAULTS, isDefault: true });
    expect(await c.setRetentionPolicy({ keepLast: 5, keepMonthly: 24 })).toEqual({ policy: { ...DEFAULTS, keepLast: 5, keepMonthly: 24 }, isDefault: false });
    const refused = await c.setRetentionPolicy({ keepLast: 0 }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(BackupClientError);
    expect(refused).toMatchObject({ code: 'backup/invalid-argument', message: expect.stringContaining('keepLast') });
    expect(await c.getRetentionPolicy()).toEqual({ policy: { ...DEFAULTS, keepLast: 5, keepMonthly: 24 }, isDefault: false });
    // Each user has their own.
    expect(await t.client('quinn').getRetentionPolicy()).toMatchObject({ isDefault: true });
    expect(await c.setRetentionPolicy(null)).toEqual({ policy: DEFAULTS, isDefault: true });
    expect(await loadRetentionPolicy(t.runtime.deps.blobs, 'paula')).toBeNull();
  });

  it('applies the policy set through the SDK after each backup', async () => {
    const c = t.client('rosa');
    await c.setRetentionPolicy({ keepLast: 1, keepDaily: 0, keepWeekly: 0, keepMonthly: 0 });
    let latest = '';
    for (let run = 0; run < 3; run++) {
      const started = await c.startBackup({ types: ['deviceInfo'], sources: { deviceInfo: { ...demoDeviceInfo(), appVersion: `1.0.${run}` } } });
      const job = await c.waitForJob(started.jobId, { intervalMs: 20 });
      expect(job.status).toBe('completed');
      latest = job.snapshotId as string;
    }
    // Retention runs right after the job completes: wait for it, briefly.
    for (let i = 0; i < 100 && (await snapshotIds('rosa')).length > 1; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await snapshotIds('rosa')).toEqual([latest]);
  });
});
