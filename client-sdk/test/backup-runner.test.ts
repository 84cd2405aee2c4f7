/**
 * The backup runner (backup-runner.ts) against a fake transport: a small in-memory server that
 * keeps chunks by id and records every call, so a run's effects are checked without HTTP.
 */
import type { BackupProgress, StartBackupOptions } from '../src/backup-run';
import { runBackup, type RunnerDeps } from '../src/backup-runner';
import { BackupClientError } from '../src/errors';
import { nobleHasher } from '../src/hasher';
import { memoryKeyValueStore, UploadLedger } from '../src/ledger';
import { isInMemory, type UploadChunk } from '../src/media-file';
import { LayoutStore } from '../src/record-delta';
import type { BackupTransport, PutChunkOptions } from '../src/transport';
import type { ServerWait } from '../src/retry';
import { FakeDevice } from './fake-device';

/** A server in memory: chunks by id, jobs by id, every call and PUT in order. */
class FakeTransport implements BackupTransport {
  readonly stored = new Map<string, Uint8Array>();
  readonly calls: Array<{ name: string; data: Record<string, unknown> }> = [];
  readonly puts: string[] = [];
  /** The PUT (counted from 1) that fails, once. */
  failPutNumber: number | null = null;
  private readonly waits = new Set<(wait: ServerWait) => void>();
  /** Upload sessions begun and not finished. */
  private readonly sessions = new Set<string>();

  async call<T>(name: string, input: unknown): Promise<T> {
    const data = input as Record<string, unknown>;
    this.calls.push({ name, data });
    const jobId = data['jobId'] as string;
    const job = (status: string) => ({ id: jobId, status, options: {} });
    switch (name) {
      case 'createBackupJob':
        return { job: job('pending') } as T;
      case 'registerChunks': {
        const ids = (data['chunks'] as Array<{ id: string }>).map((c) => c.id);
        return { missing: ids.filter((id) => !this.stored.has(id)), known: ids.filter((id) => this.stored.has(id)) } as T;
      }
      case 'beginChunkUpload': {
        const chunkId = data['chunkId'] as string;
        if (this.stored.has(chunkId)) return { uploadUrl: null, expiresAt: null, state: 'uploaded' } as T;
        this.sessions.add(`fake://${chunkId}`);
        return { uploadUrl: `fake://${chunkId}`, expiresAt: null, state: 'pending' } as T;
      }
      case 'commitUpload':
        return { job: job('processing') } as T;
      case 'pauseBackup':
      case 'resumeBackup':
        return { job: job(name === 'pauseBackup' ? 'paused' : 'pending') } as T;
      default:
        throw new BackupClientError('backup/unimplemented', `fake server: ${name}`);
    }
  }

  async putChunk(uploadUrl: string, chunk: UploadChunk, options: PutChunkOptions): Promise<void> {
    this.puts.push(chunk.id);
    if (this.failPutNumber === this.puts.length) {
      this.failPutNumber = null;
      throw new BackupClientError('backup/data-loss', `upload failed [chunk=${chunk.id}]`);
    }
    // A session is the chunk's own, begun here (a resumed run continues the one the ledger kept).
    if (uploadUrl !== `fake://${chunk.id}` || !this.sessions.has(uploadUrl)) throw new Error(`unexpected session ${uploadUrl}`);
    if (!isInMemory(chunk)) throw new Error('the fake takes chunks in memory');
    options.onAcknowledged(chunk.size);
    this.stored.set(chunk.id, chunk.bytes);
    this.sessions.delete(uploadUrl);
  }

  watchServerWaits(listener: (wait: ServerWait) => void): () => void {
    this.waits.add(listener);
    return () => this.waits.delete(listener);
  }

  /** What a waiting call tells the client. */
  tellWait(wait: ServerWait): void {
    for (const w of this.waits) w(wait);
  }

  names(): string[] {
    return this.calls.map((c) => c.name);
  }
}

function setUp(extra: Partial<RunnerDeps> = {}) {
  const transport = new FakeTransport();
  const storage = memoryKeyValueStore();
  const ledger = new UploadLedger(storage, 'd1');
  const deps: RunnerDeps = {
    deviceId: 'd1',
    transport,
    ledger,
    layouts: { contacts: new LayoutStore(storage, 'd1', 'contacts'), chats: new LayoutStore(storage, 'd1', 'chats') },
    chunking: { maxChunkBytes: 1024, maxMediaChunkBytes: 16 * 1024 * 1024, mediaPartBytes: 8 * 1024 * 1024, pieceSize: 256 * 1024, hasher: nobleHasher },
    hasher: nobleHasher,
    registerBatchSize: 3,
    window: { parallel: 2, pieceSize: 256 * 1024 },
    sleep: async () => undefined,
    now: () => 1000,
    constraintPollMs: 1,
    ...extra,
  };
  return { transport, ledger, deps };
}

const contacts = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `c${i}`, name: `Contact ${i}`, note: 'x'.repeat(60) }));

function start(progress: BackupProgress[], extra: Partial<StartBackupOptions> = {}): StartBackupOptions {
  return { types: ['contacts'], sources: { contacts: contacts(60) }, jobId: 'job-1', onProgress: (p) => progress.push(p), ...extra };
}

describe('runBackup', () => {
  it('creates, registers in batches, uploads what is missing, commits, and leaves nothing in the ledger', async () => {
    const { transport, ledger, deps } = setUp();
    const progress: BackupProgress[] = [];
    const started = await runBackup(deps, start(progress), null, undefined);
    const registers = transport.calls.filter((c) => c.name === 'registerChunks');
    expect(transport.names()).toEqual(['createBackupJob', ...registers.map(() => 'registerChunks'), ...transport.puts.map(() => 'beginChunkUpload'), 'commitUpload']);
    expect(registers.map((c) => (c.data['chunks'] as unknown[]).length).every((n) => n <= 3)).toBe(true);
    expect(started).toMatchObject({ jobId: 'job-1', job: { status: 'processing' }, chunks: transport.puts.length, bytesDeduplicated: 0 });
    expect(started.bytesUploaded).toBe(started.bytesTotal);
    expect(transport.calls.at(-1)?.data).toEqual({ jobId: 'job-1', chunkCount: started.chunks });
    expect(await ledger.list()).toEqual([]);
    expect(progress.map((p) => p.phase).filter((p, i, all) => p !== all[i - 1])).toEqual(['preparing', 'uploading', 'committed']);
    expect(progress.at(-1)).toMatchObject({ chunksDone: started.chunks, chunksTotal: started.chunks });
  });

  it('sends nothing the server has: a second run of the same contacts is all deduplicated', async () => {
    const { transport, deps } = setUp();
    const first = await runBackup(deps, start([]), null, undefined);
    const puts = transport.puts.length;
    const again = await runBackup(deps, start([], { jobId: 'job-2' }), null, undefined);
    expect(transport.puts.length).toBe(puts);
    expect(again).toMatchObject({ bytesUploaded: 0, bytesDeduplicated: first.bytesTotal });
  });

  it('pauses the job while the device breaks a constraint and carries on once it holds', async () => {
    // Without a subscription the runner polls, sleeping between readings: the device gets wifi then.
    const device = new FakeDevice({ network: 'cellular' }, false);
    const { transport, deps } = setUp({ deviceState: device, sleep: async () => device.set({ network: 'wifi' }) });
    const progress: BackupProgress[] = [];
    await runBackup(deps, start(progress, { options: { wifiOnly: true } }), null, undefined);
    const names = transport.names();
    expect(names.slice(0, 4)).toEqual(['createBackupJob', 'pauseBackup', 'resumeBackup', 'registerChunks']);
    expect(transport.calls[1]?.data).toEqual({ jobId: 'job-1', reason: 'waiting_for_wifi' });
    expect(progress.some((p) => p.phase === 'waiting' && p.pauseReason === 'waiting_for_wifi')).toBe(true);
    expect(names.at(-1)).toBe('commitUpload');
  });

  it('fails with the upload error, keeps the job in the ledger, and a resumed run sends only what is left', async () => {
    const { transport, ledger, deps } = setUp({ window: { parallel: 1, pieceSize: 256 * 1024 } });
    transport.failPutNumber = 2;
    const failed = await runBackup(deps, start([]), null, undefined).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(BackupClientError);
    expect((failed as BackupClientError).code).toBe('backup/data-loss');
    // One at a time: the first chunk is stored, the second failed, the rest never started.
    expect(transport.puts).toHaveLength(2);
    expect(transport.stored.size).toBe(1);
    expect(transport.names()).not.toContain('commitUpload');
    const [entry] = await ledger.list();
    expect(entry?.jobId).toBe('job-1');

    const resumed = await runBackup(deps, start([]), entry ?? null, undefined);
    // The failed chunk went on in the session the ledger kept for it.
    expect(entry?.inFlight[transport.puts[1] as string]).toMatchObject({ uploadUrl: `fake://${transport.puts[1]}` });
    expect(transport.names().filter((n) => n === 'beginChunkUpload')).toHaveLength(resumed.chunks);
    const chunkSize = transport.stored.get(transport.puts[0] as string)?.byteLength;
    expect(resumed.bytesDeduplicated).toBe(chunkSize);
    expect(transport.puts.slice(2)).toHaveLength(resumed.chunks - 1);
    expect(transport.stored.size).toBe(resumed.chunks);
    expect(await ledger.list()).toEqual([]);
  });

  it('ends aborted, before creating the job, when the caller aborts while preparing', async () => {
    const { transport, deps } = setUp();
    const controller = new AbortController();
    controller.abort();
    const err = await runBackup(deps, start([], { signal: controller.signal }), null, undefined).catch((e: unknown) => e);
    expect((err as BackupClientError).code).toBe('backup/aborted');
    expect(transport.calls).toEqual([]);
  });

  it('shows the server waits of its own job as waiting', async () => {
    const { transport, deps } = setUp();
    const progress: BackupProgress[] = [];
    const call = transport.call.bind(transport);
    transport.call = async <T>(name: string, data: unknown) => {
      if (name === 'commitUpload') {
        transport.tellWait({ call: name, jobId: 'other-job', reason: 'gc-in-progress', waitMs: 5, retryAt: 5, state: 'waiting' });
        transport.tellWait({ call: name, jobId: 'job-1', reason: 'gc-in-progress', waitMs: 5, retryAt: 5, state: 'waiting' });
        transport.tellWait({ call: name, jobId: 'job-1', reason: 'gc-in-progress', waitMs: 5, retryAt: 5, state: 'retrying' });
      }
      return call<T>(name, data);
    };
    await runBackup(deps, start(progress), null, undefined);
    const waiting = progress.filter((p) => p.phase === 'waiting');
    expect(waiting).toEqual([expect.objectContaining({ serverWait: { reason: 'gc-in-progress', retryAt: 5, call: 'commitUpload' } })]);
  });
});
