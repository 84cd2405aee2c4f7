/**
 * Restore through the embedded runtime: back up with the SDK, verify over the API, restore into
 * a folder, and compare what comes back with what was stored, byte for byte.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { blobKey, contentStoreOf, restoreItems, type Snapshot } from '@lifeboat/engine/core';
import { canonicalJson, ContactInput, normalizeContact } from '@lifeboat/engine/strategies';
import { demoContacts, demoDeviceInfo } from '../src/demo-data';
import { restoreToFolder } from '../src/restore/folder-restore';
import { useTestRuntime } from './helpers/test-runtime';

const t = useTestRuntime('restore');
let snapshot: Snapshot;
const contacts = demoContacts({ contacts: 250, seed: 3 });
const client = () => t.client('erin', { deviceId: 'p' });

beforeAll(async () => {
  const c = client();
  const started = await c.startBackup({ types: ['contacts', 'deviceInfo'], sources: { contacts, deviceInfo: demoDeviceInfo() } });
  const job = await c.waitForJob(started.jobId, { intervalMs: 20 });
  snapshot = await c.getSnapshot(job.snapshotId as string);
});

describe('restore', () => {
  it('restores every contact byte for byte as stored, as vCard, and the device info', async () => {
    const to = join(t.dir, 'all');
    const summary = await restoreToFolder(contentStoreOf(t.runtime.deps), snapshot, to);
    expect(summary.items).toEqual({ contacts: 250, deviceInfo: 1 });
    expect(readdirSync(to).sort()).toEqual(['contacts.ndjson', 'contacts.vcf', 'device-info.json', 'restore-report.json']);
    const sorted = [...contacts].sort((a, b) => (a.id < b.id ? -1 : 1));
    const expected = sorted.map((c) => canonicalJson(normalizeContact(ContactInput.parse(c)))).join('\n') + '\n';
    expect(readFileSync(join(to, 'contacts.ndjson'), 'utf8')).toBe(expected);
    expect(readFileSync(join(to, 'contacts.vcf'), 'utf8').match(/BEGIN:VCARD\r\n/g)).toHaveLength(250);
    expect(JSON.parse(readFileSync(join(to, 'device-info.json'), 'utf8'))).toEqual(demoDeviceInfo());
  });

  it('restores part of a snapshot: one type, or single items', async () => {
    const onlyInfo = await restoreToFolder(contentStoreOf(t.runtime.deps), snapshot, join(t.dir, 'info'), { types: ['deviceInfo'] });
    expect(onlyInfo.items).toEqual({ deviceInfo: 1 });
    const picked = [contacts[10]?.id, contacts[200]?.id] as string[];
    const some = await restoreToFolder(contentStoreOf(t.runtime.deps), snapshot, join(t.dir, 'some'), { sourceIds: picked });
    expect(some.items).toEqual({ contacts: 2 });
    const ids = readFileSync(join(t.dir, 'some', 'contacts.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).id);
    expect(ids.sort()).toEqual([...picked].sort());
  });

  it('never writes into a folder that has files', async () => {
    const to = join(t.dir, 'busy');
    mkdirSync(to);
    writeFileSync(join(to, 'keep.txt'), 'mine');
    await expect(restoreToFolder(contentStoreOf(t.runtime.deps), snapshot, to)).rejects.toMatchObject({ code: 'failed-precondition' });
    expect(readdirSync(to)).toEqual(['keep.txt']);
  });

  it('verifies over the API, and names a deleted blob after it is gone', async () => {
    const c = client();
    const healthy = await c.verifySnapshot(snapshot.id);
    expect(healthy).toMatchObject({ ok: true, problems: [] });
    expect(healthy.checkedBlobs).toBe(healthy.totalBlobs);
    let infoBlob: string | null = null;
    for await (const { item } of restoreItems(contentStoreOf(t.runtime.deps), snapshot, { types: ['deviceInfo'] })) infoBlob = item.blob;
    await t.runtime.deps.blobs.delete(blobKey('erin', infoBlob as string));
    const report = await c.verifySnapshot(snapshot.id);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'missing-blob', blob: infoBlob, items: [{ type: 'deviceInfo', sourceId: 'deviceInfo' }] })]);
    expect((await c.getSnapshot(snapshot.id)).health).toMatchObject({ ok: false, problems: 1 });
  });
});
