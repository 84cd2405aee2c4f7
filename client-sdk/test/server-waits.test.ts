/**
 * Waiting as the server asks (issue 17, item 4): `Retry-After` or `details.retryAfterMs` on an
 * `unavailable` or `resource-exhausted` answer is honoured within the policy's `maxWaitMs`
 * (2 minutes by default) without using up the retry ladder, progress shows the wait, and giving
 * up carries the server's own error. A per-user limit is never retried.
 */
import { jobDoc } from './protocol-docs';
import { callFunction, type CallableOptions } from '../src/callable';
import { createBackupClient, type BackupProgress } from '../src/client';
import { BackupClientError } from '../src/errors';
import { uploadResumable } from '../src/resumable-upload';
import { DEFAULT_TRANSPORT_RETRY, MIN_SERVER_WAIT_MS, type ServerWait } from '../src/retry';
import { json, parse, recordingSleep, ScriptedHttp, type Reply } from './scripted-http';

const gcBusy = (retryAfterMs: number, header?: string): Reply => ({
  status: 503,
  ...(header === undefined ? {} : { headers: { 'retry-after': header } }),
  body: json({ error: { status: 'UNAVAILABLE', message: 'garbage collection of this user’s blobs is running', details: { reason: 'gc-in-progress', retryAfterMs, code: 'unavailable' } } }),
});

function callable(script: (i: number) => Reply, retry = DEFAULT_TRANSPORT_RETRY) {
  const http = new ScriptedHttp((_req, i) => script(i));
  const { sleep, delays } = recordingSleep();
  const waits: ServerWait[] = [];
  const options: CallableOptions = { baseUrl: 'https://api.test', getToken: () => 't', http, retry, sleep, now: () => 1000, onWait: (w) => waits.push(w) };
  return { http, delays, waits, call: (name: string, data: unknown) => callFunction(options, name, data) };
}

describe('server-asked waits, callables', () => {
  it('waits retryAfterMs (Firebase has no headers) outside the ladder, and reports each wait', async () => {
    const { call, delays, waits } = callable((i) => (i < 2 ? gcBusy(45_000) : i === 2 ? 'network-error' : { status: 200, body: json({ result: 'ok' }) }));
    await expect(call('registerChunks', { jobId: 'job-12345678' })).resolves.toBe('ok');
    // Two server-asked waits, then the ladder's first step for the network error.
    expect(delays).toEqual([45_000, 45_000, 1000]);
    expect(waits.map((w) => [w.state, w.call, w.jobId, w.reason, w.waitMs])).toEqual([
      ['waiting', 'registerChunks', 'job-12345678', 'gc-in-progress', 45_000],
      ['retrying', 'registerChunks', 'job-12345678', 'gc-in-progress', 45_000],
      ['waiting', 'registerChunks', 'job-12345678', 'gc-in-progress', 45_000],
      ['retrying', 'registerChunks', 'job-12345678', 'gc-in-progress', 45_000],
    ]);
    expect(waits[0]?.retryAt).toBe(1000 + 45_000);
  });

  it('takes the longer of Retry-After and retryAfterMs, and at least a second', async () => {
    const { call, delays } = callable((i) => [gcBusy(2000, '7'), gcBusy(9000, '3'), gcBusy(0, '0')][i] ?? { status: 200, body: json({ result: 1 }) });
    await call('x', {});
    expect(delays).toEqual([7000, 9000, MIN_SERVER_WAIT_MS]);
  });

  it('gives up once maxWaitMs is spent, with the server’s error and how long it waited', async () => {
    const { call, delays, http } = callable(() => gcBusy(50_000));
    const err = (await call('registerChunks', {}).catch((e: unknown) => e)) as BackupClientError;
    expect(delays).toEqual([50_000, 50_000, 20_000]);
    expect(http.requests).toHaveLength(4);
    expect(err).toMatchObject({ code: 'backup/unavailable', status: 503, details: { reason: 'gc-in-progress' } });
    expect(err.message).toMatch(/garbage collection .* \(waited 120 s as the server asked, the most this client waits\)/);
  });

  it('maxWaitMs 0 fails at the first server-asked wait', async () => {
    const { call, delays } = callable(() => gcBusy(5000), { delaysMs: [1, 1], maxWaitMs: 0 });
    await expect(call('x', {})).rejects.toMatchObject({ details: { reason: 'gc-in-progress' } });
    expect(delays).toEqual([]);
  });

  it('never retries a per-user limit', async () => {
    const { call, http } = callable(() => ({
      status: 429,
      body: json({ error: { status: 'RESOURCE_EXHAUSTED', message: 'too many chunks', details: { limit: 'chunksPerJob', max: 5 } } }),
    }));
    await expect(call('registerChunks', {})).rejects.toMatchObject({ code: 'backup/quota-exceeded', retryable: false, details: { limit: 'chunksPerJob' } });
    expect(http.requests).toHaveLength(1);
  });
});

describe('server-asked waits, uploads', () => {
  const bytes = new Uint8Array(300 * 1024).fill(7);
  const diskFull: Reply = {
    status: 429,
    headers: { 'retry-after': '60' },
    body: json({ error: { status: 'RESOURCE_EXHAUSTED', message: "upload failed: the server's disk is full (ENOSPC: no space left on device (write))", details: { reason: 'disk-full', retryAfterMs: 60_000 } } }),
  };

  it('waits out a full disk within the budget, then fails with the disk’s cause, not a bare stall', async () => {
    const http = new ScriptedHttp((req) => (req.headers['content-range']?.startsWith('bytes */') ? { status: 308 } : diskFull));
    const { sleep, delays } = recordingSleep();
    const waits: ServerWait[] = [];
    const err = (await uploadResumable('https://up.test/s', bytes, { http, pieceSize: 256 * 1024, retry: DEFAULT_TRANSPORT_RETRY, sleep, now: () => 0, jobId: 'job-1', onWait: (w) => waits.push(w) }).catch(
      (e: unknown) => e,
    )) as BackupClientError;
    expect(delays).toEqual([60_000, 60_000]);
    expect(err).toMatchObject({ code: 'backup/quota-exceeded', status: 429, details: { reason: 'disk-full' } });
    expect(err.message).toMatch(/^upload stalled at byte 0 of 307200 after 0 retries: upload failed: the server's disk is full \(ENOSPC/);
    expect(waits.filter((w) => w.state === 'waiting').map((w) => [w.call, w.jobId, w.reason])).toEqual([
      ['upload', 'job-1', 'disk-full'],
      ['upload', 'job-1', 'disk-full'],
    ]);
  });
});

describe('server-asked waits in a backup’s progress', () => {
  it('shows phase waiting with the reason while garbage collection holds the user, then carries on', async () => {
    let registerCalls = 0;
    const http = new ScriptedHttp((req) => {
      if (req.method === 'PUT') return { status: 200, body: json({}) };
      const name = req.url.split('/').pop();
      const data = parse(req.body).data;
      if (name === 'createBackupJob') return { status: 200, body: json({ result: { job: jobDoc({ id: 'job-7' }) } }) };
      if (name === 'registerChunks') {
        if (registerCalls++ === 0) return gcBusy(30_000, '30');
        return { status: 200, body: json({ result: { missing: data.chunks.map((c: { id: string }) => c.id), known: [], unresolved: [] } }) };
      }
      if (name === 'beginChunkUpload') return { status: 200, body: json({ result: { uploadUrl: 'https://up.test/s', expiresAt: null, state: 'pending' } }) };
      if (name === 'commitUpload') return { status: 200, body: json({ result: { job: jobDoc({ id: 'job-7', status: 'running' }) } }) };
      return { status: 404 };
    });
    const { sleep, delays } = recordingSleep();
    const seen: BackupProgress[] = [];
    const client = createBackupClient({ baseUrl: 'https://api.test', getToken: () => 't', deviceId: 'd', http, sleep, now: () => 5000, onProgress: (p) => seen.push(p) });
    await client.startBackup({ types: ['contacts'], sources: { contacts: [{ id: 'a' }, { id: 'b' }] } });
    expect(delays).toEqual([30_000]);
    const waiting = seen.filter((p) => p.phase === 'waiting');
    expect(waiting).toEqual([expect.objectContaining({ jobId: 'job-7', serverWait: { reason: 'gc-in-progress', retryAt: 35_000, call: 'registerChunks' } })]);
    const after = seen[seen.indexOf(waiting[0]!) + 1];
    expect(after).toMatchObject({ phase: 'uploading' });
    expect(after?.serverWait).toBeUndefined();
    expect(seen.at(-1)).toMatchObject({ phase: 'committed' });
  });
});
