/**
 * Disk faults on the embedded server, injected (issue 17, item 2): a full disk or an unwritable
 * data folder while a device uploads, while an upload is stored, and under a callable. The server
 * stays up, the device learns the real cause, other users are served, nothing acknowledged is
 * lost, and the backup resumes once the disk takes writes again. disk-full-tmpfs.test.ts does
 * the same on a real full file system where it can mount one.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { BackupClientError, BackupProgress, MediaFile } from '@lifeboat/client-sdk';
import type { JobStore } from '@lifeboat/engine/ports';
import { demoContacts } from '../src/demo-data';
import { FolderUploadParts } from '../src/server/upload-parts';
import { FaultyBlobStore, FaultyUploadParts, type FaultRule } from './helpers/disk-faults';
import { useTestRuntime } from './helpers/test-runtime';

let parts: FaultyUploadParts;
let blobs: FaultyBlobStore;
let storeFault: ((call: string) => Error | null) | null = null;

/** createJob refused the way better-sqlite3 refuses a write to a full disk. */
function withStoreFaults(store: JobStore): JobStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const fault = storeFault?.(String(property));
        if (fault) return Promise.reject(fault);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

const t = useTestRuntime('disk-faults', {
  instrumentUploadParts: (p) => (parts = new FaultyUploadParts(p)),
  instrumentBlobs: (b) => (blobs = new FaultyBlobStore(b)),
  instrumentStore: withStoreFaults,
  retryPolicy: { delaysSeconds: [0.05, 0.1], jitter: 0 },
  // A web app's origin, so the Retry-After a browser must read is exposed to it.
  allowedOrigins: ['https://app.example'],
});

/** A device whose waits are recorded, not slept: the server's Retry-After shows in `waits`. */
function device(uid: string, onProgress?: (p: BackupProgress) => void) {
  const waits: number[] = [];
  const client = t.client(uid, {
    uploadPieceSize: 256 * 1024,
    retry: { delaysMs: [1, 1], maxWaitMs: 120_000 },
    sleep: async (ms) => {
      waits.push(ms);
    },
    ...(onProgress ? { onProgress } : {}),
  });
  return { client, waits };
}

function sessionsOf(uid: string): { id: string; state: string }[] {
  return t.runtime.db.prepare('SELECT id, state FROM upload_sessions WHERE uid = ?').all(uid) as { id: string; state: string }[];
}

const ownedBy = (uid: string, code: string): FaultRule => (id) => (sessionsOf(uid).some((s) => s.id === id) ? code : null);

const photo = (kib: number): MediaFile => ({ sourceId: `DCIM/${kib}.bin`, name: `${kib}.bin`, mimeType: 'application/octet-stream', bytes: new Uint8Array(randomBytes(kib * 1024)) });

async function healthy(): Promise<boolean> {
  return (await fetch(`${t.runtime.url}/healthz`)).status === 200;
}

async function bobBacksUp(): Promise<void> {
  const { client } = device(`bob-${Math.random().toString(36).slice(2, 8)}`);
  const started = await client.startBackup({ types: ['contacts'], sources: { contacts: demoContacts({ contacts: 30, seed: 3 }) } });
  expect(await client.waitForJob(started.jobId, { intervalMs: 20 })).toMatchObject({ status: 'completed' });
}

afterEach(() => {
  parts.rule = null;
  blobs.rule = null;
  storeFault = null;
});

describe('disk faults on the embedded server', () => {
  it('a disk that fills mid-upload: the device is told why, acknowledged bytes stay, others are served, the upload resumes', async () => {
    const file = photo(700);
    let faulted = false;
    const { client: ann, waits } = device('ann', (p) => {
      // The first piece is acknowledged; from then on the disk is full for ann's uploads.
      if (!faulted && p.bytesUploaded >= 256 * 1024) {
        faulted = true;
        parts.rule = ownedBy('ann', 'ENOSPC');
      }
    });
    const failure = (await ann.startBackup({ types: ['media'], sources: { media: [file] } }).catch((e: unknown) => e)) as BackupClientError;
    expect(failure).toMatchObject({ code: 'backup/quota-exceeded', retryable: true, details: { reason: 'disk-full', errno: 'ENOSPC', code: 'resource-exhausted' } });
    expect(failure.message).toMatch(/disk is full \(ENOSPC: no space left on device \(write\)\)/);
    expect(failure.message).not.toMatch(/secret/);
    // It waited as the server asked (Retry-After: 60 s), twice, within its two minutes.
    expect(waits.filter((ms) => ms === 60_000)).toHaveLength(2);
    expect(parts.refused).toBeGreaterThan(0);

    // The part holds the acknowledged piece and nothing of the refused requests.
    const [session] = sessionsOf('ann');
    expect(await new FolderUploadParts(join(t.dataDir, 'uploads')).size(session?.id as string)).toBe(256 * 1024);

    expect(await healthy()).toBe(true);
    await bobBacksUp();

    parts.rule = null;
    const receivedBefore = t.runtime.uploads.bytesReceived;
    const [resumed] = await ann.resumePending({ sources: { media: [file] }, includeScheduled: false });
    expect(await ann.waitForJob(resumed?.jobId as string, { intervalMs: 20 })).toMatchObject({ status: 'completed', progress: { processedItems: 1 } });
    // Only the bytes the server never acknowledged went up again.
    expect(t.runtime.uploads.bytesReceived - receivedBefore).toBe(resumed!.bytesTotal - 256 * 1024);
  });

  it('an unwritable uploads folder is named as such (EACCES), not as a missing file', async () => {
    parts.rule = ownedBy('carol', 'EACCES');
    const { client: carol } = device('carol');
    const failure = (await carol.startBackup({ types: ['media'], sources: { media: [photo(40)] } }).catch((e: unknown) => e)) as BackupClientError;
    expect(failure).toMatchObject({ code: 'backup/unavailable', details: { reason: 'disk-unwritable', errno: 'EACCES' } });
    expect(failure.message).toMatch(/cannot write its data folder \(EACCES: permission denied \(open\)\)/);
    expect(failure.message).not.toMatch(/ENOENT/);
    expect(await healthy()).toBe(true);
    await bobBacksUp();
  });

  it('a disk that cannot take the completed upload keeps the part, and the retry stores it without re-sending a byte', async () => {
    blobs.rule = (key) => (key.startsWith('uploads/dave/') ? 'ENOSPC' : null);
    const file = photo(300);
    const { client: dave } = device('dave');
    const failure = (await dave.startBackup({ types: ['media'], sources: { media: [file] } }).catch((e: unknown) => e)) as BackupClientError;
    expect(failure).toMatchObject({ code: 'backup/quota-exceeded', details: { reason: 'disk-full' } });
    // Every byte arrived and stays in the part, while the session stays open.
    const [session] = t.runtime.db.prepare("SELECT id, state, size FROM upload_sessions WHERE uid = 'dave'").all() as { id: string; state: string; size: number }[];
    expect(session?.state).toBe('open');
    expect(await new FolderUploadParts(join(t.dataDir, 'uploads')).size(session?.id as string)).toBe(session?.size);

    await bobBacksUp();
    blobs.rule = null;
    const receivedBefore = t.runtime.uploads.bytesReceived;
    const [resumed] = await dave.resumePending({ sources: { media: [file] }, includeScheduled: false });
    expect(await dave.waitForJob(resumed?.jobId as string, { intervalMs: 20 })).toMatchObject({ status: 'completed' });
    expect(t.runtime.uploads.bytesReceived - receivedBefore).toBe(0);
  });

  it('a callable the database cannot write answers resource-exhausted with Retry-After, and the server goes on', async () => {
    storeFault = (call) => (call === 'createJob' ? Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }) : null);
    const res = await fetch(`${t.runtime.url}/createBackupJob`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${t.token('erin')}`, origin: 'https://app.example' },
      body: JSON.stringify({ data: { deviceId: 'p', types: ['contacts'] } }),
    });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('60');
    expect(res.headers.get('access-control-expose-headers')).toMatch(/retry-after/);
    const body = (await res.json()) as { error: { status: string; message: string; details: Record<string, unknown> } };
    expect(body.error).toMatchObject({ status: 'RESOURCE_EXHAUSTED', details: { reason: 'disk-full', errno: 'SQLITE_FULL', retryAfterMs: 60_000 } });
    expect(body.error.message).toMatch(/database or disk is full/);
    storeFault = null;
    expect(await healthy()).toBe(true);
    await bobBacksUp();
  });
});

