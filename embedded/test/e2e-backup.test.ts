/**
 * End to end: the embedded server on an ephemeral port, a device backing up through the client
 * SDK, and the stored snapshot checked byte for byte against what the device sent.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { blobKey, contentStoreOf, decodeBlob, loadManifest, sha256Hex } from '@lifeboat/engine/core';
import { canonicalJson, normalizeContact, ContactInput } from '@lifeboat/engine/strategies';
import { createToken } from '../src/auth/tokens';
import { demoContacts, demoDeviceInfo } from '../src/demo-data';
import { useTestRuntime } from './helpers/test-runtime';

const t = useTestRuntime('e2e', { tokenSecret: 'e2e-secret' });
const client = (uid: string) => t.client(uid);

async function post(name: string, body: string, token?: string) {
  const res = await fetch(`${t.runtime.url}/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

describe('embedded runtime end to end', () => {
  const contacts = demoContacts({ contacts: 400, seed: 7 });
  const device = demoDeviceInfo();

  it('backs up contacts and device info into a snapshot whose blobs match byte for byte', async () => {
    const alice = client('alice');
    const started = await alice.startBackup({ types: ['contacts', 'deviceInfo'], sources: { contacts, deviceInfo: device } });
    expect(started.bytesUploaded).toBe(started.bytesTotal);
    const job = await alice.waitForJob(started.jobId, { intervalMs: 20 });
    expect(job).toMatchObject({ status: 'completed', phase: 'done', lastError: null });
    expect(job.progress).toMatchObject({ totalItems: 401, processedItems: 401, skippedItems: 0, bytesUploaded: started.bytesTotal });

    const snapshot = await alice.getSnapshot(job.snapshotId as string);
    expect(snapshot).toMatchObject({ uid: 'alice', jobId: job.id, totals: { items: 401, skippedItems: 0 } });

    const content = contentStoreOf(t.runtime.deps);
    const manifest = await loadManifest(content, snapshot);
    const sortedIds = contacts.map((c) => c.id).sort();
    expect(manifest.items.map((i) => i.sourceId)).toEqual([...sortedIds, 'deviceInfo']);

    // Each contact's stored record is its normalized form, byte for byte.
    const packs = new Map<string, string[]>();
    for (const item of manifest.items.filter((i) => i.type === 'contacts')) {
      const blob = item.blob as string;
      if (!packs.has(blob)) packs.set(blob, new TextDecoder().decode(await content.get('alice', blob)).trimEnd().split('\n'));
      const original = contacts.find((c) => c.id === item.sourceId);
      expect(packs.get(blob)?.[item.part ?? -1]).toBe(canonicalJson(normalizeContact(ContactInput.parse(original))));
    }
    // The device info blob, read straight from the folder on disk, decodes to the canonical JSON.
    const infoItem = manifest.items.find((i) => i.type === 'deviceInfo');
    // The folder store's file is `LBO1`, a 4-byte metadata length, the metadata, then the object.
    const onDisk = readFileSync(join(t.dataDir, 'blobs', 'objects', blobKey('alice', infoItem?.blob as string)));
    expect(onDisk.subarray(0, 4).toString('latin1')).toBe('LBO1');
    const object = onDisk.subarray(8 + onDisk.readUInt32BE(4));
    // Encrypted at rest: no plaintext on disk, and it decodes with alice's data key only.
    expect(object.includes(Buffer.from('Lifeboat Demo Phone'))).toBe(false);
    const plain = decodeBlob(new Uint8Array(object), { key: await t.runtime.deps.keyRing!.dataKey('alice') });
    expect(new TextDecoder().decode(plain)).toBe(canonicalJson(device));
    expect(sha256Hex(plain)).toBe(infoItem?.blob);
  });

  it('a second, unchanged backup uploads nothing; one changed contact uploads one chunk', async () => {
    const alice = client('alice');
    const again = await alice.startBackup({ types: ['contacts', 'deviceInfo'], sources: { contacts, deviceInfo: device } });
    expect(again.bytesUploaded).toBe(0);
    const job = await alice.waitForJob(again.jobId, { intervalMs: 20 });
    expect(job).toMatchObject({ status: 'completed', progress: { bytesUploaded: 0, processedItems: 401 } });

    const changed = contacts.map((c, i) => (i === 123 ? { ...c, note: 'changed' } : c));
    const third = await alice.startBackup({ types: ['contacts', 'deviceInfo'], sources: { contacts: changed, deviceInfo: device } });
    expect(third.bytesUploaded).toBeGreaterThan(0);
    expect(third.bytesUploaded).toBeLessThan(third.bytesTotal * 0.2);
    expect((await alice.waitForJob(third.jobId, { intervalMs: 20 })).status).toBe('completed');
  });

  it('lists the user\'s jobs and snapshots, and only theirs', async () => {
    const bob = client('bob');
    const bobsJob = await bob.startBackup({ types: ['deviceInfo'], sources: { deviceInfo: device } });
    await bob.waitForJob(bobsJob.jobId, { intervalMs: 20 });
    const jobs = [];
    for await (const j of client('alice').listJobs()) jobs.push(j);
    expect(jobs.length).toBe(3);
    expect(jobs.every((j) => j.uid === 'alice')).toBe(true);
    const snaps = [];
    for await (const s of bob.listSnapshots()) snaps.push(s);
    expect(snaps.map((s) => s.jobId)).toEqual([bobsJob.jobId]);
    await expect(bob.getJob(jobs[0]?.id as string)).rejects.toMatchObject({ code: 'backup/permission-denied' });
  });

  it('speaks the callable protocol: status codes and error bodies', async () => {
    const token = t.token('carol');
    const noAuth = await post('getBackupJob', JSON.stringify({ data: { jobId: 'whatever-1' } }));
    expect(noAuth).toMatchObject({ status: 401, json: { error: { status: 'UNAUTHENTICATED' } } });
    const badToken = await post('getBackupJob', JSON.stringify({ data: { jobId: 'whatever-1' } }), 'lb1.forged.token');
    expect(badToken).toMatchObject({ status: 401, json: { error: { status: 'UNAUTHENTICATED' } } });
    const otherSecret = await post('getBackupJob', JSON.stringify({ data: { jobId: 'whatever-1' } }), createToken('other', { uid: 'carol' }));
    expect(otherSecret.status).toBe(401);
    const notJson = await post('getBackupJob', '{not json', token);
    expect(notJson).toMatchObject({ status: 400, json: { error: { status: 'INVALID_ARGUMENT' } } });
    const invalid = await post('createBackupJob', JSON.stringify({ data: { types: ['contacts'] } }), token);
    expect(invalid).toMatchObject({ status: 400, json: { error: { status: 'INVALID_ARGUMENT', details: { code: 'invalid-argument' } } } });
    expect(invalid.json['error'].message).toMatch(/deviceId/);
    const unknown = await post('getBackupJob', JSON.stringify({ data: { jobId: 'no-such-job' } }), token);
    expect(unknown).toMatchObject({ status: 404, json: { error: { status: 'NOT_FOUND' } } });
    const noSuchCall = await post('dropDatabase', JSON.stringify({ data: {} }), token);
    expect(noSuchCall.status).toBe(404);
    const ok = await post('listBackupJobs', JSON.stringify({ data: {} }), token);
    expect(ok).toMatchObject({ status: 200, json: { result: { jobs: [] } } });
  });

  it('speaks the resumable upload protocol: offsets, resume, hash check, unknown sessions', async () => {
    const token = t.token('dave');
    const call = async (name: string, data: unknown) => (await post(name, JSON.stringify({ data }), token)).json['result'];
    const bytes = new TextEncoder().encode(`${JSON.stringify({ id: 'x1', note: 'a'.repeat(3000) })}\n`);
    const id = sha256Hex(bytes);
    const { job } = await call('createBackupJob', { deviceId: 'p', types: ['contacts'] });
    await call('registerChunks', { jobId: job.id, chunks: [{ id, type: 'contacts', size: bytes.length, items: 1 }] });
    const { uploadUrl } = await call('beginChunkUpload', { jobId: job.id, chunkId: id });
    const put = (range: string, body?: Uint8Array) =>
      fetch(uploadUrl, { method: 'PUT', headers: { 'content-range': range }, ...(body ? { body: Buffer.from(body) } : {}) });

    const query0 = await put(`bytes */${bytes.length}`);
    expect(query0.status).toBe(308);
    expect(query0.headers.get('range')).toBeNull();
    const first = await put(`bytes 0-999/${bytes.length}`, bytes.subarray(0, 1000));
    expect([first.status, first.headers.get('range')]).toEqual([308, 'bytes=0-999']);
    const gap = await put(`bytes 2000-2999/${bytes.length}`, bytes.subarray(2000, 3000));
    expect(gap.status).toBe(400);
    // Overlapping bytes the server already has are ignored.
    const overlap = await put(`bytes 500-${bytes.length - 1}/${bytes.length}`, bytes.subarray(500));
    expect(overlap.status).toBe(200);
    expect((await put(`bytes */${bytes.length}`)).status).toBe(200);
    expect((await fetch(`${t.runtime.url}/upload/${'0'.repeat(32)}`, { method: 'PUT', headers: { 'content-range': 'bytes */1' } })).status).toBe(404);

    // A second chunk whose bytes do not match its registered hash is refused and starts over.
    const other = new TextEncoder().encode(`${JSON.stringify({ id: 'x2' })}\n`);
    const otherId = sha256Hex(other);
    await call('registerChunks', { jobId: job.id, chunks: [{ id: otherId, type: 'contacts', size: other.length, items: 1 }] });
    const session = await call('beginChunkUpload', { jobId: job.id, chunkId: otherId });
    const forged = new Uint8Array(other);
    forged[2] = 0x41;
    const refused = await fetch(session.uploadUrl, { method: 'PUT', headers: { 'content-range': `bytes 0-${other.length - 1}/${other.length}` }, body: Buffer.from(forged) });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as any).error.status).toBe('DATA_LOSS');
    const status = await fetch(session.uploadUrl, { method: 'PUT', headers: { 'content-range': `bytes */${other.length}` } });
    expect([status.status, status.headers.get('range')]).toEqual([308, null]);
    const good = await fetch(session.uploadUrl, { method: 'PUT', headers: { 'content-range': `bytes 0-${other.length - 1}/${other.length}` }, body: Buffer.from(other) });
    expect(good.status).toBe(200);

    await call('commitUpload', { jobId: job.id, chunkCount: 2 });
    let final: any;
    for (let i = 0; i < 500; i++) {
      final = (await call('getBackupJob', { jobId: job.id })).job;
      if (final.status !== 'queued' && final.status !== 'running') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(final).toMatchObject({ status: 'completed', progress: { processedItems: 2, bytesUploaded: bytes.length + other.length } });
  });
});
