/**
 * Parallel chunk uploads against a scripted server: how many PUTs run at once, the bytes in
 * flight, the first failure stopping the rest, constraints before every chunk, and the ledger
 * holding every in-flight session so a new process continues each one.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createBackupClient, type BackupClientOptions } from '../src/client';
import type { HttpRequest } from '../src/http';
import { memoryKeyValueStore } from '../src/ledger';
import type { MediaFile } from '../src/media-file';
import type { KeyValueStore } from '../src/ports';
import { FakeDevice } from './fake-device';
import { jobDoc } from './protocol-docs';
import { FakeResumableSession, json, parse, ScriptedHttp, type Reply } from './scripted-http';

const KIB = 1024;
const PIECE = 256 * KIB;

/** A scripted Lifeboat server: every chunk missing, one resumable session per chunk, slow PUTs. */
class FakeServer {
  readonly sessions = new Map<string, FakeResumableSession>();
  readonly sizes = new Map<string, number>();
  readonly calls: Array<{ name: string; data: any; putsInFlight: number }> = [];
  readonly begun: string[] = [];
  putsInFlight = 0;
  maxPutsInFlight = 0;
  bytesInFlight = 0;
  maxBytesInFlight = 0;
  putDelayMs = 3;
  /** Answers a PUT to this chunk's session with this reply instead. */
  failPut = new Map<string, Reply>();
  /** Called on each PUT, e.g. to abort mid-way. */
  onPut: (chunkId: string) => void = () => undefined;
  readonly http = new ScriptedHttp((req) => this.handle(req));

  private async handle(req: HttpRequest): Promise<Reply> {
    if (req.method === 'PUT') return this.put(req);
    const name = req.url.split('/').pop() as string;
    const data = parse(req.body).data;
    this.calls.push({ name, data, putsInFlight: this.putsInFlight });
    const ok = (result: unknown): Reply => ({ status: 200, body: json({ result }) });
    const job = jobDoc({ id: data.jobId ?? 'job-1', status: 'running', pauseReason: null, uploadCommitted: false });
    switch (name) {
      case 'createBackupJob':
        return ok({ job: { ...job, id: data.jobId ?? 'job-1' } });
      case 'getBackupJob':
        return ok({ job });
      case 'listBackupJobs':
        return ok({ jobs: [] });
      case 'registerChunks':
        for (const c of data.chunks) this.sizes.set(c.id, c.size);
        return ok({ missing: data.chunks.map((c: { id: string }) => c.id).filter((id: string) => !this.sessions.get(id)?.received.length || this.sessions.get(id)?.received.length !== this.sizes.get(id)), known: [] });
      case 'beginChunkUpload': {
        this.begun.push(data.chunkId);
        this.sessions.set(data.chunkId, new FakeResumableSession(this.sizes.get(data.chunkId) as number));
        return ok({ uploadUrl: `https://up.test/${data.chunkId}`, expiresAt: null, state: 'pending' });
      }
      case 'commitUpload':
      case 'pauseBackup':
      case 'resumeBackup':
        return ok({ job });
      default:
        return { status: 404 };
    }
  }

  private async put(req: HttpRequest): Promise<Reply> {
    const chunkId = req.url.split('/').pop() as string;
    const size = req.body?.byteLength ?? 0;
    this.onPut(chunkId);
    this.putsInFlight += 1;
    this.bytesInFlight += size;
    this.maxPutsInFlight = Math.max(this.maxPutsInFlight, this.putsInFlight);
    this.maxBytesInFlight = Math.max(this.maxBytesInFlight, this.bytesInFlight);
    try {
      await new Promise((r) => setTimeout(r, this.putDelayMs));
      const failure = this.failPut.get(chunkId);
      if (failure) return failure;
      return (this.sessions.get(chunkId) as FakeResumableSession).handle(req);
    } finally {
      this.putsInFlight -= 1;
      this.bytesInFlight -= size;
    }
  }

  /** Every chunk's received bytes equal its id's preimage. */
  allStoredIntact(): boolean {
    return [...this.sessions].every(([id, s]) => s.received.length === this.sizes.get(id) && createHash('sha256').update(s.received).digest('hex') === id);
  }
}

const files = (count: number, size: number): MediaFile[] =>
  Array.from({ length: count }, (_, i) => ({ sourceId: `f${String(i).padStart(3, '0')}`, name: `f${i}.bin`, bytes: randomBytes(size) }));

function clientFor(server: FakeServer, extra: Partial<BackupClientOptions> = {}) {
  return createBackupClient({ baseUrl: 'https://api.test', getToken: () => 't', deviceId: 'd', http: server.http, uploadPieceSize: PIECE, sleep: async () => undefined, ...extra });
}

describe('parallel chunk uploads', () => {
  it('uploads small chunks up to parallelUploads at a time, each once, intact', async () => {
    const server = new FakeServer();
    const started = await clientFor(server, { parallelUploads: 4 }).startBackup({ types: ['media'], sources: { media: files(30, 8 * KIB) } });
    expect(started.chunks).toBe(30);
    expect(started.bytesUploaded).toBe(started.bytesTotal);
    expect(server.maxPutsInFlight).toBe(4);
    expect(new Set(server.begun).size).toBe(30);
    expect(server.begun.length).toBe(30);
    expect(server.allStoredIntact()).toBe(true);
    expect(server.calls.filter((c) => c.name === 'commitUpload')).toEqual([expect.objectContaining({ data: { jobId: started.jobId, chunkCount: 30 }, putsInFlight: 0 })]);
  });

  it('keeps the bytes in flight within one piece: big chunks go one at a time', async () => {
    const mixed = new FakeServer();
    await clientFor(mixed, { parallelUploads: 8 }).startBackup({ types: ['media'], sources: { media: files(12, 100 * KIB) } });
    // 100 KiB chunks: two fit one 256 KiB piece, a third does not.
    expect(mixed.maxPutsInFlight).toBe(2);
    expect(mixed.maxBytesInFlight).toBeLessThanOrEqual(PIECE);

    const big = new FakeServer();
    await clientFor(big, { parallelUploads: 8 }).startBackup({ types: ['media'], sources: { media: files(3, 600 * KIB) } });
    expect(big.maxPutsInFlight).toBe(1);
    expect(big.allStoredIntact()).toBe(true);

    const serial = new FakeServer();
    await clientFor(serial, { parallelUploads: 1 }).startBackup({ types: ['media'], sources: { media: files(10, 4 * KIB) } });
    expect(serial.maxPutsInFlight).toBe(1);
  });

  it('stops at the first permanent failure: no new chunk starts, nothing is left in flight', async () => {
    const server = new FakeServer();
    const media = files(40, 4 * KIB);
    const client = clientFor(server, { parallelUploads: 4 });
    let failing = '';
    server.onPut = (chunkId) => {
      if (!failing && server.begun.length >= 10) {
        failing = chunkId;
        server.failPut.set(chunkId, { status: 403, body: json({ error: { status: 'PERMISSION_DENIED', message: 'no' } }) });
      }
    };
    await expect(client.startBackup({ types: ['media'], sources: { media } })).rejects.toMatchObject({ code: 'backup/permission-denied' });
    expect(server.putsInFlight).toBe(0);
    expect(server.begun.length).toBeLessThan(20);
    expect(server.calls.some((c) => c.name === 'commitUpload')).toBe(false);
  });

  it('checks the constraints before every chunk and pauses only once the chunks in flight have settled', async () => {
    const server = new FakeServer();
    const device = new FakeDevice({}, false);
    let reads = 0;
    const getState = device.getState.bind(device);
    device.getState = async () => {
      reads += 1;
      // Wi-Fi drops after the 12th check and is back at the next poll.
      if (reads === 12) device.set({ network: 'cellular' });
      if (reads === 14) device.set({ network: 'wifi' });
      return getState();
    };
    const started = await clientFor(server, { parallelUploads: 4, deviceState: device, constraintPollMs: 1 }).startBackup({ types: ['media'], sources: { media: files(20, 4 * KIB) } });
    expect(started.bytesUploaded).toBe(started.bytesTotal);
    expect(reads).toBeGreaterThanOrEqual(21); // before the job and before each of the 20 chunks
    const pauses = server.calls.filter((c) => c.name === 'pauseBackup');
    expect(pauses).toEqual([expect.objectContaining({ data: { jobId: started.jobId, reason: 'waiting_for_wifi' }, putsInFlight: 0 })]);
    expect(server.calls.filter((c) => c.name === 'resumeBackup')).toHaveLength(1);
  });

  it('persists the in-flight session; a new process continues it from its offset, sending no acknowledged byte again', async () => {
    const server = new FakeServer();
    const storage: KeyValueStore = memoryKeyValueStore();
    const media = files(6, 300 * KIB); // each chunk spans two 256 KiB pieces
    const controller = new AbortController();
    let puts = 0;
    let ledgerAtAbort: any = null;
    server.onPut = (chunkId) => {
      puts += 1;
      if (puts === 4) {
        // As a kill: the request dies with the process, after the first piece of its chunk arrived.
        server.failPut.set(chunkId, 'network-error');
        void storage.getItem('lifeboat/ledger/d').then((raw) => { ledgerAtAbort = JSON.parse(raw as string); });
        controller.abort();
      }
    };
    const first = clientFor(server, { parallelUploads: 4, storage });
    await expect(first.startBackup({ types: ['media'], sources: { media }, jobId: 'job-kill-1', signal: controller.signal })).rejects.toMatchObject({ code: 'backup/aborted' });
    expect(Object.keys(ledgerAtAbort.entries['job-kill-1'].inFlight)).toHaveLength(1);

    server.failPut.clear();
    const inFlight = Object.keys(JSON.parse((await storage.getItem('lifeboat/ledger/d')) as string).entries['job-kill-1'].inFlight);
    expect(inFlight).toHaveLength(1);
    const arrived = server.sessions.get(inFlight[0] as string)?.received.length;
    expect(arrived).toBe(PIECE);
    let sent = 0;
    server.onPut = () => undefined;
    const counting = { request: async (req: HttpRequest) => { sent += req.method === 'PUT' ? req.body?.byteLength ?? 0 : 0; return server.http.request(req); } };
    const begunBefore = server.begun.length;
    const [resumed] = await clientFor(server, { parallelUploads: 4, storage, http: counting }).resumePending({ sources: { media } });
    expect(resumed?.jobId).toBe('job-kill-1');
    expect(server.allStoredIntact()).toBe(true);
    // Nothing acknowledged is sent again: the rest of the interrupted chunk, then the chunks not begun.
    const total = resumed?.bytesTotal ?? 0;
    // Six equal chunks: one finished before the kill, and one piece of the interrupted one arrived.
    expect(sent).toBe(total - total / 6 - PIECE);
    // The interrupted chunk was continued in its session, not begun again.
    expect(server.begun.slice(begunBefore)).not.toContain(inFlight[0]);
    expect(await storage.getItem('lifeboat/ledger/d')).toBeNull();
  });

  it('records several in-flight sessions at once when small chunks run in parallel', async () => {
    const server = new FakeServer();
    const storage = memoryKeyValueStore();
    let most = 0;
    server.onPut = () => {
      void storage.getItem('lifeboat/ledger/d').then((raw) => {
        // One backup, one ledger entry (under the key the SDK made for its job).
        if (raw) most = Math.max(most, ...Object.values(JSON.parse(raw).entries as Record<string, { inFlight: object }>).map((e) => Object.keys(e.inFlight).length));
      });
    };
    await clientFor(server, { parallelUploads: 4, storage }).startBackup({ types: ['media'], sources: { media: files(16, 4 * KIB) } });
    expect(most).toBeGreaterThan(1);
    expect(await storage.getItem('lifeboat/ledger/d')).toBeNull();
  });

  it('stores the ledger changes that arrive during a slow write together, in the next write', async () => {
    const inner = memoryKeyValueStore();
    let writes = 0;
    let concurrent = 0;
    let overlapped = false;
    const slow: KeyValueStore = {
      getItem: (k) => inner.getItem(k),
      async setItem(k, v) {
        writes += 1;
        concurrent += 1;
        overlapped ||= concurrent > 1;
        await new Promise((r) => setTimeout(r, 5));
        concurrent -= 1;
        await inner.setItem(k, v);
      },
      removeItem: (k) => inner.removeItem(k),
    };
    const server = new FakeServer();
    server.putDelayMs = 1;
    const started = await clientFor(server, { parallelUploads: 4, storage: slow }).startBackup({ types: ['media'], sources: { media: files(24, 2 * KIB) } });
    expect(started.bytesUploaded).toBe(started.bytesTotal);
    // One at a time, each chunk would cost two writes (session recorded, session dropped).
    expect(writes).toBeLessThan(2 * 24);
    expect(overlapped).toBe(false);
    expect(await slow.getItem('lifeboat/ledger/d')).toBeNull();
  });

  it('reads a version 1 ledger (one in-flight chunk) and continues that chunk', async () => {
    const server = new FakeServer();
    const media = files(2, 300 * KIB);
    const storage = memoryKeyValueStore();
    // A first run with the old ledger format got half of one chunk to the server.
    const client = clientFor(server, { storage });
    const controller = new AbortController();
    server.onPut = () => controller.abort();
    await expect(client.startBackup({ types: ['media'], sources: { media }, jobId: 'job-old-1', signal: controller.signal })).rejects.toMatchObject({ code: 'backup/aborted' });
    server.onPut = () => undefined;
    const current = JSON.parse((await storage.getItem('lifeboat/ledger/d')) as string);
    const entry = current.entries['job-old-1'];
    const [chunkId, upload] = Object.entries(entry.inFlight)[0] as [string, { uploadUrl: string; expiresAt: null; acknowledged: number }];
    await storage.setItem('lifeboat/ledger/d', JSON.stringify({
      version: 1,
      entries: { 'job-old-1': { jobId: 'job-old-1', types: entry.types, startedAt: entry.startedAt, inFlight: { chunkId, uploadUrl: upload.uploadUrl, expiresAt: null }, acknowledged: upload.acknowledged } },
    }));
    const begunBefore = server.begun.length;
    await clientFor(server, { storage }).resumePending({ sources: { media } });
    expect(server.begun.slice(begunBefore)).not.toContain(chunkId);
    expect(server.allStoredIntact()).toBe(true);
  });
});
