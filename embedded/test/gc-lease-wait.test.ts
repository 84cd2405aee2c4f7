/**
 * GC leases on the embedded runtime (issue 17, item 4): a crashed GC run holds a user's backups up
 * only until its short lease ends; meanwhile the server answers `unavailable` with `Retry-After`,
 * and the SDK waits (progress `waiting`, reason `gc-in-progress`) and completes the backup
 * instead of failing it. Stopping the runtime during a GC run releases the run's lease.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackupClient, type BackupProgress } from '@lifeboat/client-sdk';
import { GC_RETRY_AFTER_MS, HeldGcLease, lifeboatError } from '@lifeboat/engine/core';
import { silentLogger, type BlobInfo, type BlobStore, type CallOptions } from '@lifeboat/engine/ports';
import { FolderBlobStore } from '../src/adapters/folder-blob-store';
import { createToken } from '../src/auth/tokens';
import { demoContacts } from '../src/demo-data';
import { startEmbeddedRuntime } from '../src/runtime';
import { useTestRuntime } from './helpers/test-runtime';

const t = useTestRuntime('gc-lease-wait');

async function leasesOf(blobs: BlobStore, uid: string): Promise<string[]> {
  const out: string[] = [];
  for await (const b of blobs.list(`leases/${uid}/`)) out.push(b.key);
  return out;
}

describe('GC leases, embedded', () => {
  it('answers a fenced call with 503, Retry-After and retryAfterMs', async () => {
    const created = await fetch(`${t.runtime.url}/createBackupJob`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${t.token('gus')}` },
      body: JSON.stringify({ data: { deviceId: 'p', types: ['contacts'] } }),
    });
    const jobId = ((await created.json()) as { result: { job: { id: string } } }).result.job.id;
    // A GC run that crashed right after writing its lease: never renewed, never released.
    await HeldGcLease.acquire(t.runtime.deps, 'gus', { ttlMs: 20_000 });
    const res = await fetch(`${t.runtime.url}/registerChunks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${t.token('gus')}` },
      body: JSON.stringify({ data: { jobId, chunks: [{ id: 'a'.repeat(64), type: 'contacts', size: 10, items: 1 }] } }),
    });
    expect(res.status).toBe(503);
    const seconds = Number(res.headers.get('retry-after'));
    expect(seconds).toBe(GC_RETRY_AFTER_MS / 1000);
    const body = (await res.json()) as { error: { status: string; details: { reason: string; retryAfterMs: number } } };
    expect(body.error).toMatchObject({ status: 'UNAVAILABLE', details: { reason: 'gc-in-progress', leaseExpiresAt: expect.any(Number) } });
    expect(Math.ceil(body.error.details.retryAfterMs / 1000)).toBe(seconds);
  });

  it('a backup started while a crashed run’s lease lasts waits it out and completes', async () => {
    await HeldGcLease.acquire(t.runtime.deps, 'hal', { ttlMs: 1500 });
    const seen: BackupProgress[] = [];
    const hal = t.client('hal', { onProgress: (p) => seen.push(p) });
    const started = await hal.startBackup({ types: ['contacts'], sources: { contacts: demoContacts({ contacts: 20, seed: 2 }) } });
    expect(await hal.waitForJob(started.jobId, { intervalMs: 20 })).toMatchObject({ status: 'completed' });
    expect(seen.some((p) => p.phase === 'waiting' && p.serverWait?.reason === 'gc-in-progress' && p.serverWait.call === 'registerChunks')).toBe(true);
    expect(seen.at(-1)?.phase).toBe('committed');
  });
});

describe('stopping the runtime during a GC run', () => {
  it('aborts the run, which releases its lease', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeboat-gc-stop-'));
    let entered: () => void = () => {};
    const inSweep = new Promise<void>((resolve) => (entered = resolve));
    /** Listing the user's blobs (the sweep) hangs until the run is aborted, as a slow bucket would. */
    const slowSweep = (inner: BlobStore): BlobStore =>
      new Proxy(inner, {
        get(target, property, receiver) {
          if (property !== 'list') {
            const value = Reflect.get(target, property, receiver) as unknown;
            return typeof value === 'function' ? value.bind(target) : value;
          }
          return async function* list(prefix: string, options: CallOptions = {}): AsyncIterable<BlobInfo> {
            if (prefix === 'users/ivy/blobs/' && options.signal) {
              entered();
              await new Promise<never>((_, reject) => options.signal?.addEventListener('abort', () => reject(lifeboatError('cancelled', 'the call was cancelled')), { once: true }));
            }
            yield* target.list(prefix, options);
          };
        },
      });
    try {
      const runtime = await startEmbeddedRuntime({ dataDir: join(dir, 'data'), port: 0, logger: silentLogger, tokenSecret: 's', gcAfterBackup: { graceMs: 0, minIntervalMs: 0 }, instrumentBlobs: slowSweep });
      const ivy = createBackupClient({ baseUrl: runtime.url, getToken: () => createToken('s', { uid: 'ivy' }), deviceId: 'p' });
      const started = await ivy.startBackup({ types: ['contacts'], sources: { contacts: demoContacts({ contacts: 10, seed: 4 }) } });
      await ivy.waitForJob(started.jobId, { intervalMs: 20 });
      await inSweep;
      expect(await leasesOf(runtime.deps.blobs, 'ivy')).toHaveLength(1);
      await runtime.stop();
      expect(await leasesOf(new FolderBlobStore(join(dir, 'data', 'blobs')), 'ivy')).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
