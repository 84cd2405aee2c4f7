import { callFunction, type CallableOptions } from '../src/callable';
import { createBackupClient } from '../src/client';
import { BackupClientError } from '../src/errors';
import { uploadResumable } from '../src/resumable-upload';
import { DEFAULT_TRANSPORT_RETRY } from '../src/retry';
import { FakeResumableSession, json, parse, recordingSleep, ScriptedHttp, type Reply } from './scripted-http';

function callable(handler: (index: number) => Reply) {
  const http = new ScriptedHttp((_req, i) => handler(i));
  const { sleep, delays } = recordingSleep();
  const options: CallableOptions = { baseUrl: 'https://api.test/', getToken: async () => 'tok', http, retry: DEFAULT_TRANSPORT_RETRY, sleep, now: () => 0 };
  return { http, delays, call: <T>(name: string, data: unknown) => callFunction<T>(options, name, data) };
}

describe('callable transport', () => {
  it('POSTs {data} with the bearer token and returns result', async () => {
    const { http, call } = callable(() => ({ status: 200, body: json({ result: { ok: 1 } }) }));
    await expect(call('getBackupJob', { jobId: 'j' })).resolves.toEqual({ ok: 1 });
    expect(http.requests[0]).toMatchObject({ method: 'POST', url: 'https://api.test/getBackupJob', headers: { authorization: 'Bearer tok', 'content-type': 'application/json' } });
    expect(parse(http.requests[0]?.body)).toEqual({ data: { jobId: 'j' } });
  });

  it.each([
    [400, 'INVALID_ARGUMENT', 'backup/invalid-argument'],
    [400, 'FAILED_PRECONDITION', 'backup/failed-precondition'],
    [401, 'UNAUTHENTICATED', 'backup/unauthenticated'],
    [403, 'PERMISSION_DENIED', 'backup/permission-denied'],
    [404, 'NOT_FOUND', 'backup/not-found'],
    [501, 'UNIMPLEMENTED', 'backup/unimplemented'],
  ])('maps HTTP %i %s to %s without retrying', async (status, name, code) => {
    const { http, call } = callable(() => ({ status, body: json({ error: { status: name, message: 'nope', details: { field: 'x' } } }) }));
    const err = await call('x', {}).catch((e: unknown) => e as BackupClientError);
    expect(err).toBeInstanceOf(BackupClientError);
    expect(err).toMatchObject({ code, message: 'nope', status, details: { field: 'x' }, retryable: false });
    expect(http.requests).toHaveLength(1);
  });

  it('retries 503, network errors and 429 on the ladder, honouring Retry-After', async () => {
    const script: Reply[] = [
      { status: 503, body: json({ error: { status: 'UNAVAILABLE', message: 'busy' } }) },
      'network-error',
      { status: 429, headers: { 'retry-after': '7' }, body: json({ error: { status: 'RESOURCE_EXHAUSTED', message: 'slow down' } }) },
      { status: 200, body: json({ result: 'done' }) },
    ];
    const { delays, call } = callable((i) => script[i] as Reply);
    await expect(call('x', {})).resolves.toBe('done');
    expect(delays).toEqual([1000, 2000, 7000]);
  });

  it('gives up after the last retry with the last error', async () => {
    const { http, delays, call } = callable(() => ({ status: 503, body: json({ error: { status: 'UNAVAILABLE', message: 'down' } }) }));
    await expect(call('x', {})).rejects.toMatchObject({ code: 'backup/unavailable', message: 'down' });
    expect(http.requests).toHaveLength(6);
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000]);
  });

  it('maps resource-exhausted to quota-exceeded', async () => {
    const { call } = callable((i) => (i < 10 ? { status: 429, body: json({ error: { status: 'RESOURCE_EXHAUSTED', message: 'quota' } }) } : { status: 500 }));
    await expect(call('x', {})).rejects.toMatchObject({ code: 'backup/quota-exceeded' });
  });
});

describe('resumable upload', () => {
  const bytes = new Uint8Array(1024 * 1024 + 123).map((_, i) => i % 251);
  const piece = 256 * 1024;

  function run(session: FakeResumableSession, hook?: (i: number) => Reply | null) {
    const http = new ScriptedHttp((req, i) => hook?.(i) ?? session.handle(req));
    const { sleep, delays } = recordingSleep();
    const acknowledged: number[] = [];
    const sent = uploadResumable('https://up.test/s1', bytes, { http, pieceSize: piece, retry: DEFAULT_TRANSPORT_RETRY, sleep, now: () => 0, onAcknowledged: (n) => acknowledged.push(n) });
    return { http, delays, acknowledged, sent };
  }

  it('sends 256 KiB-multiple pieces with Content-Range and follows 308 offsets', async () => {
    const session = new FakeResumableSession(bytes.length);
    const { http, sent, acknowledged } = run(session);
    expect(await sent).toBe(bytes.length);
    expect(http.requests.map((r) => r.headers['content-range'])).toEqual([
      `bytes 0-262143/${bytes.length}`,
      `bytes 262144-524287/${bytes.length}`,
      `bytes 524288-786431/${bytes.length}`,
      `bytes 786432-1048575/${bytes.length}`,
      `bytes 1048576-${bytes.length - 1}/${bytes.length}`,
    ]);
    expect(Buffer.from(session.received).equals(Buffer.from(bytes))).toBe(true);
    expect(acknowledged).toEqual([262144, 524288, 786432, 1048576, bytes.length]);
  });

  it('after a dropped connection asks for the offset and resends only what the server lacks', async () => {
    const session = new FakeResumableSession(bytes.length);
    let dropped = false;
    const { http, sent, delays } = run(session, (i) => {
      if (i === 1 && !dropped) {
        dropped = true;
        session.failNext = { persist: 1000 };
      }
      return null;
    });
    const total = await sent;
    expect(Buffer.from(session.received).equals(Buffer.from(bytes))).toBe(true);
    const ranges = http.requests.map((r) => r.headers['content-range']);
    expect(ranges[2]).toBe(`bytes */${bytes.length}`);
    expect(ranges[3]).toBe(`bytes ${262144 + 1000}-${262144 + 1000 + piece - 1}/${bytes.length}`);
    expect(delays).toEqual([1000]);
    // Re-sent bytes: only the part of the dropped piece the server never persisted.
    expect(total - bytes.length).toBe(piece - 1000);
  });

  it('a 404 means the session expired', async () => {
    const { sent } = run(new FakeResumableSession(bytes.length), () => ({ status: 404 }));
    await expect(sent).rejects.toMatchObject({ code: 'backup/upload-session-expired' });
  });

  it('a 400 is permanent and carries the server error', async () => {
    const { sent, http } = run(new FakeResumableSession(bytes.length), () => ({ status: 400, body: json({ error: { status: 'DATA_LOSS', message: 'hash mismatch' } }) }));
    await expect(sent).rejects.toMatchObject({ code: 'backup/data-loss', message: 'hash mismatch' });
    expect(http.requests).toHaveLength(1);
  });

  it('stops after the last retry when the server keeps failing', async () => {
    const { sent, delays } = run(new FakeResumableSession(bytes.length), () => ({ status: 503 }));
    await expect(sent).rejects.toMatchObject({ code: 'backup/unavailable', message: expect.stringMatching(/stalled at byte 0/) });
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000]);
  });

  it('refuses a piece size that is not a multiple of 256 KiB', async () => {
    expect(() => createBackupClient({ baseUrl: 'x', getToken: () => 't', deviceId: 'd', uploadPieceSize: 1000 })).toThrow(/256 KiB/);
  });
});
