/**
 * `createBackupClient`: the SDK's entry point. One options object with documented defaults,
 * injected platform ports, typed errors, progress callbacks, AbortSignal, async iterables.
 */
import { callFunction, type CallableOptions } from './callable';
import { chatChunks, contactChunks, deviceInfoChunk, mediaChunks, type ChatRecord, type Chunk, type ContactRecord, type DeviceInfoRecord, type MediaFile, type RecordSource } from './chunker';
import { abortedError, BackupClientError } from './errors';
import { brokenConstraint, constraintsFor, waitForConstraints } from './constraints';
import { fetchHttp, type HttpPort } from './http';
import { memoryKeyValueStore, UploadLedger, type LedgerEntry } from './ledger';
import type { DeviceState, KeyValueStore } from './ports';
import { assertPieceSize, uploadResumable } from './resumable-upload';
import { DEFAULT_TRANSPORT_RETRY, defaultSleep, type TransportRetryPolicy } from './retry';
import { TERMINAL_STATUSES, type BackupJob, type BackupOptions, type BackupType, type ChunkState, type JobStatus, type PauseReason, type Snapshot, type VerifyReport } from './types';

export interface BackupClientOptions {
  /** Where the API lives: the embedded server (`http://127.0.0.1:8787`) or the functions' base URL. */
  baseUrl: string;
  /** A fresh bearer token per call: a Firebase ID token, or one from `lifeboat token`. */
  getToken: () => string | Promise<string>;
  /** Names this device on the server's job records. */
  deviceId: string;
  /** @default fetchHttp() over globalThis.fetch */
  http?: HttpPort;
  /** Bytes per upload request; a multiple of 256 KiB. @default 8 MiB */
  uploadPieceSize?: number;
  /** Largest chunk of packed records. @default 1 MiB */
  maxChunkBytes?: number;
  /** Chunks per `registerChunks` call (the server takes at most 250). @default 250 */
  registerBatchSize?: number;
  /** Retries of transient transport failures. @default 1 s, 2 s, 4 s, 8 s, 16 s */
  retry?: TransportRetryPolicy;
  /** @default setTimeout-based sleep that an AbortSignal cuts short */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** @default Date.now */
  now?: () => number;
  /** Progress of every backup this client starts. @default none */
  onProgress?: (progress: BackupProgress) => void;
  /**
   * Device state for the backup's constraints (wifiOnly, minBatteryPercent, requiresCharging,
   * storageNotLow), checked before the job starts and before every chunk. A broken constraint
   * pauses the job with its reason on the server and the backup resumes by itself once the state
   * holds again. @default none: no checks (a server or desktop process)
   */
  deviceState?: DeviceState;
  /** Free bytes below which storage counts as low. @default 500 MB */
  minFreeStorageBytes?: number;
  /** How often to re-read the device state where it has no subscription. @default 5000 */
  constraintPollMs?: number;
  /**
   * Where the ledger of unfinished backups persists (AsyncStorage on React Native,
   * `fileKeyValueStore` from `@lifeboat/client-sdk/node`), so `resumePending()` can carry on after
   * the app is killed. @default in memory: resuming then works only within this process
   */
  storage?: KeyValueStore;
}

/** What the device backs up, per type. */
export interface BackupSources {
  /** Chat messages of every conversation; see ChatRecord. */
  chats?: RecordSource<ChatRecord>;
  contacts?: RecordSource<ContactRecord>;
  deviceInfo?: DeviceInfoRecord | (() => DeviceInfoRecord | Promise<DeviceInfoRecord>);
  /**
   * Photos, videos, audio and other files, one chunk each. First cut: each file's bytes are held
   * in memory and a file must fit the 64 MiB chunk limit; a streaming file source comes later.
   */
  media?: RecordSource<MediaFile>;
}

export interface StartBackupOptions {
  types: BackupType[];
  /** @default the server's defaults (see BackupOptions) */
  options?: BackupOptions;
  sources: BackupSources;
  /** Idempotency key: starting again with the same id continues the same job. @default random */
  jobId?: string;
  /**
   * Stops between steps and aborts requests in flight; the promise rejects with `backup/aborted`.
   * The job is left as it is, so a later start with the same `jobId` continues it.
   */
  signal?: AbortSignal;
  onProgress?: (progress: BackupProgress) => void;
}

export interface BackupProgress {
  jobId: string | null;
  /** `waiting`: paused until the device meets the constraints again (see `pauseReason`). */
  phase: 'preparing' | 'uploading' | 'waiting' | 'committed';
  pauseReason: PauseReason | null;
  chunksTotal: number;
  /** Chunks the server has: uploaded now, or already there. */
  chunksDone: number;
  itemsTotal: number;
  bytesTotal: number;
  bytesUploaded: number;
  bytesDeduplicated: number;
}

export interface StartedBackup {
  jobId: string;
  /** The job as `commitUpload` returned it; watch it for the server's progress. */
  job: BackupJob;
  chunks: number;
  bytesTotal: number;
  /** Bytes of chunks sent by this call. */
  bytesUploaded: number;
  /** Bytes of chunks the server already had. */
  bytesDeduplicated: number;
}

export interface WatchOptions {
  /** First polling interval. @default 1000 */
  intervalMs?: number;
  /** Polling backs off (×1.5) while nothing changes, up to this. @default 10_000 */
  maxIntervalMs?: number;
  signal?: AbortSignal;
}

export interface ResumeOptions {
  /** The same sources the interrupted backups had: chunking is deterministic, so they are rebuilt. */
  sources: BackupSources;
  signal?: AbortSignal;
  onProgress?: (progress: BackupProgress) => void;
}

export interface BackupClient {
  startBackup(options: StartBackupOptions): Promise<StartedBackup>;
  /**
   * Carries on every backup this device started and did not commit (after the app was killed,
   * say), without re-sending bytes the server acknowledged. Backups the user paused stay paused.
   */
  resumePending(options: ResumeOptions): Promise<StartedBackup[]>;
  getJob(jobId: string, signal?: AbortSignal): Promise<BackupJob>;
  /** Yields the job each time it changes, ending after a terminal status. */
  watchJob(jobId: string, options?: WatchOptions): AsyncIterable<BackupJob>;
  /** Resolves with the job once it is completed, failed or cancelled. */
  waitForJob(jobId: string, options?: WatchOptions): Promise<BackupJob>;
  pauseBackup(jobId: string, reason?: PauseReason): Promise<BackupJob>;
  resumeBackup(jobId: string): Promise<BackupJob>;
  cancelBackup(jobId: string): Promise<BackupJob>;
  retryBackup(jobId: string): Promise<BackupJob>;
  listJobs(options?: { status?: JobStatus; pageSize?: number }): AsyncIterable<BackupJob>;
  listSnapshots(options?: { pageSize?: number }): AsyncIterable<Snapshot>;
  getSnapshot(snapshotId: string): Promise<Snapshot>;
  /** Has the server re-read a snapshot's blobs (or a sampled share) and report problems by item. */
  verifySnapshot(snapshotId: string, options?: { samplePercent?: number }): Promise<VerifyReport>;
}

const SUPPORTED_TYPES: readonly BackupType[] = ['chats', 'contacts', 'deviceInfo', 'media'];
const MIB = 1024 * 1024;

export function createBackupClient(clientOptions: BackupClientOptions): BackupClient {
  const pieceSize = clientOptions.uploadPieceSize ?? 8 * MIB;
  assertPieceSize(pieceSize);
  const maxChunkBytes = clientOptions.maxChunkBytes ?? MIB;
  const batchSize = clientOptions.registerBatchSize ?? 250;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 250) {
    throw new BackupClientError('backup/invalid-argument', 'registerBatchSize must be 1..250');
  }
  const callable: CallableOptions = {
    baseUrl: clientOptions.baseUrl,
    getToken: clientOptions.getToken,
    http: clientOptions.http ?? fetchHttp(),
    retry: clientOptions.retry ?? DEFAULT_TRANSPORT_RETRY,
    sleep: clientOptions.sleep ?? defaultSleep,
    now: clientOptions.now ?? Date.now,
  };
  const call = <T>(name: string, data: unknown, signal?: AbortSignal) => callFunction<T>(callable, name, data, signal);

  async function buildChunks(types: BackupType[], sources: BackupSources): Promise<Chunk[]> {
    const chunks: Chunk[] = [];
    for (const type of types) {
      if (type === 'chats') {
        if (!sources.chats) throw new BackupClientError('backup/invalid-argument', 'types include chats but sources.chats is missing');
        chunks.push(...(await chatChunks(sources.chats, maxChunkBytes)));
      } else if (type === 'contacts') {
        if (!sources.contacts) throw new BackupClientError('backup/invalid-argument', 'types include contacts but sources.contacts is missing');
        chunks.push(...(await contactChunks(sources.contacts, maxChunkBytes)));
      } else if (type === 'deviceInfo') {
        if (!sources.deviceInfo) throw new BackupClientError('backup/invalid-argument', 'types include deviceInfo but sources.deviceInfo is missing');
        chunks.push(await deviceInfoChunk(sources.deviceInfo));
      } else if (type === 'media') {
        if (!sources.media) throw new BackupClientError('backup/invalid-argument', 'types include media but sources.media is missing');
        chunks.push(...(await mediaChunks(sources.media)));
      }
    }
    return chunks;
  }

  const ledger = new UploadLedger(clientOptions.storage ?? memoryKeyValueStore(), clientOptions.deviceId);

  async function uploadChunk(
    jobId: string,
    chunk: Chunk,
    signal: AbortSignal | undefined,
    onBytes: (acknowledged: number) => void,
    inFlight: LedgerEntry['inFlight'],
  ): Promise<void> {
    const send = async (uploadUrl: string, resume: boolean) => {
      await uploadResumable(uploadUrl, chunk.bytes, {
        http: callable.http,
        pieceSize,
        retry: callable.retry,
        sleep: callable.sleep,
        now: callable.now,
        resume,
        ...(signal ? { signal } : {}),
        onAcknowledged: (n) => {
          onBytes(n);
          void ledger.patch(jobId, { acknowledged: n });
        },
      });
    };
    const expired = (err: unknown) => err instanceof BackupClientError && err.code === 'backup/upload-session-expired';
    // The session an interrupted run left for this chunk: continue it from the server's offset.
    if (inFlight?.chunkId === chunk.id) {
      try {
        await send(inFlight.uploadUrl, true);
        return;
      } catch (err) {
        if (!expired(err)) throw err;
      }
    }
    // A session can expire (a week on GCS) while an app sleeps: begin a new one, a few times.
    for (let sessions = 0; ; sessions++) {
      const begun = await call<{ uploadUrl: string | null; expiresAt: number | null; state: ChunkState }>('beginChunkUpload', { jobId, chunkId: chunk.id }, signal);
      if (begun.uploadUrl === null) {
        onBytes(chunk.size);
        return;
      }
      await ledger.patch(jobId, { inFlight: { chunkId: chunk.id, uploadUrl: begun.uploadUrl, expiresAt: begun.expiresAt }, acknowledged: 0 });
      try {
        await send(begun.uploadUrl, false);
        return;
      } catch (err) {
        if (!expired(err) || sessions >= 2) throw err;
      }
    }
  }

  function startBackup(options: StartBackupOptions): Promise<StartedBackup> {
    return runBackup(options, null);
  }

  async function resumePending(options: ResumeOptions): Promise<StartedBackup[]> {
    const resumed: StartedBackup[] = [];
    for (const entry of await ledger.list()) {
      let job: BackupJob;
      try {
        job = await getJob(entry.jobId, options.signal);
      } catch (err) {
        if (err instanceof BackupClientError && (err.code === 'backup/not-found' || err.code === 'backup/permission-denied')) {
          await ledger.remove(entry.jobId);
          continue;
        }
        throw err;
      }
      if (job.uploadCommitted || TERMINAL_STATUSES.includes(job.status) || (job.status === 'paused' && job.pauseReason === 'user')) {
        if (job.status !== 'paused') await ledger.remove(entry.jobId);
        continue;
      }
      // Paused for a device reason by the run that died: this run checks the constraints afresh.
      if (job.status === 'paused') await call('resumeBackup', { jobId: job.id }, options.signal);
      resumed.push(
        await runBackup(
          {
            types: entry.types,
            ...(entry.options ? { options: entry.options } : {}),
            sources: options.sources,
            jobId: entry.jobId,
            ...(options.signal ? { signal: options.signal } : {}),
            ...(options.onProgress ? { onProgress: options.onProgress } : {}),
          },
          entry.inFlight,
        ),
      );
    }
    return resumed;
  }

  async function runBackup(options: StartBackupOptions, inFlight: LedgerEntry['inFlight']): Promise<StartedBackup> {
    const { signal } = options;
    const unsupported = options.types.filter((t) => !SUPPORTED_TYPES.includes(t));
    if (options.types.length === 0) throw new BackupClientError('backup/invalid-argument', 'types must name at least one type');
    if (unsupported.length > 0) throw new BackupClientError('backup/unimplemented', `this SDK cannot back up ${unsupported.join(', ')} yet`);
    const emit = (p: BackupProgress) => {
      clientOptions.onProgress?.(p);
      options.onProgress?.(p);
    };
    const progress: BackupProgress = { jobId: null, phase: 'preparing', pauseReason: null, chunksTotal: 0, chunksDone: 0, itemsTotal: 0, bytesTotal: 0, bytesUploaded: 0, bytesDeduplicated: 0 };
    emit({ ...progress });

    const chunks = await buildChunks(options.types, options.sources);
    if (signal?.aborted) throw abortedError();
    progress.chunksTotal = chunks.length;
    progress.itemsTotal = chunks.reduce((n, c) => n + c.items, 0);
    progress.bytesTotal = chunks.reduce((n, c) => n + c.size, 0);

    const { job: created } = await call<{ job: BackupJob }>(
      'createBackupJob',
      { deviceId: clientOptions.deviceId, types: options.types, ...(options.options ? { options: options.options } : {}), ...(options.jobId ? { jobId: options.jobId } : {}) },
      signal,
    );
    const jobId = created.id;
    progress.jobId = jobId;
    if (!inFlight) {
      await ledger.put({ jobId, types: options.types, ...(options.options ? { options: options.options } : {}), startedAt: callable.now(), inFlight: null, acknowledged: 0 });
    }
    progress.phase = 'uploading';
    emit({ ...progress });

    const constraints = constraintsFor(options.options, clientOptions.minFreeStorageBytes);
    /** Pauses the job while the device breaks a constraint, and resumes it once it holds. */
    const holdConstraints = async (): Promise<void> => {
      const device = clientOptions.deviceState;
      if (!device) return;
      const reason = brokenConstraint(await device.getState(), constraints);
      if (!reason) return;
      await call('pauseBackup', { jobId, reason }, signal);
      progress.phase = 'waiting';
      progress.pauseReason = reason;
      emit({ ...progress });
      await waitForConstraints(device, constraints, { pollMs: clientOptions.constraintPollMs ?? 5000, sleep: callable.sleep, ...(signal ? { signal } : {}) });
      await call('resumeBackup', { jobId }, signal);
      progress.phase = 'uploading';
      progress.pauseReason = null;
      emit({ ...progress });
    };
    await holdConstraints();

    const missing = new Set<string>();
    for (let i = 0; i < chunks.length; i += batchSize) {
      const batch = chunks.slice(i, i + batchSize);
      const answer = await call<{ missing: string[]; known: string[] }>(
        'registerChunks',
        { jobId, chunks: batch.map(({ id, type, size, items }) => ({ id, type, size, items })) },
        signal,
      );
      for (const id of answer.missing) missing.add(id);
      for (const chunk of batch) {
        if (missing.has(chunk.id)) continue;
        progress.chunksDone += 1;
        progress.bytesDeduplicated += chunk.size;
      }
      emit({ ...progress });
    }

    for (const chunk of chunks) {
      if (!missing.has(chunk.id)) continue;
      await holdConstraints();
      missing.delete(chunk.id); // the same bytes twice in one backup upload once
      const before = progress.bytesUploaded;
      await uploadChunk(
        jobId,
        chunk,
        signal,
        (acknowledged) => {
          progress.bytesUploaded = before + acknowledged;
          emit({ ...progress });
        },
        inFlight,
      );
      await ledger.patch(jobId, { inFlight: null, acknowledged: 0 });
      progress.chunksDone += 1;
      emit({ ...progress });
    }

    const { job } = await call<{ job: BackupJob }>('commitUpload', { jobId, chunkCount: new Set(chunks.map((c) => c.id)).size }, signal);
    await ledger.remove(jobId);
    progress.phase = 'committed';
    emit({ ...progress });
    return { jobId, job, chunks: chunks.length, bytesTotal: progress.bytesTotal, bytesUploaded: progress.bytesUploaded, bytesDeduplicated: progress.bytesDeduplicated };
  }

  async function getJob(jobId: string, signal?: AbortSignal): Promise<BackupJob> {
    return (await call<{ job: BackupJob }>('getBackupJob', { jobId }, signal)).job;
  }

  async function* watchJob(jobId: string, options: WatchOptions = {}): AsyncIterable<BackupJob> {
    const first = options.intervalMs ?? 1000;
    const max = options.maxIntervalMs ?? 10_000;
    let interval = first;
    let last = '';
    for (;;) {
      const job = await getJob(jobId, options.signal);
      const fingerprint = JSON.stringify([job.status, job.phase, job.pauseReason, job.progress, job.lastError, job.updatedAt]);
      if (fingerprint !== last) {
        last = fingerprint;
        interval = first;
        yield job;
      } else {
        interval = Math.min(max, Math.round(interval * 1.5));
      }
      if (TERMINAL_STATUSES.includes(job.status)) return;
      try {
        await callable.sleep(interval, options.signal);
      } catch {
        throw abortedError();
      }
    }
  }

  async function waitForJob(jobId: string, options: WatchOptions = {}): Promise<BackupJob> {
    let last: BackupJob | undefined;
    for await (const job of watchJob(jobId, options)) last = job;
    return last as BackupJob;
  }

  async function* pages<T>(name: string, key: string, data: Record<string, unknown>): AsyncIterable<T> {
    let pageToken: string | undefined;
    do {
      const page = await call<Record<string, unknown>>(name, { ...data, ...(pageToken ? { pageToken } : {}) });
      for (const item of (page[key] as T[] | undefined) ?? []) yield item;
      pageToken = page['nextPageToken'] as string | undefined;
    } while (pageToken);
  }

  const jobCall = (name: string) => async (jobId: string, extra: Record<string, unknown> = {}) =>
    (await call<{ job: BackupJob }>(name, { jobId, ...extra })).job;

  return {
    startBackup,
    resumePending,
    getJob,
    watchJob,
    waitForJob,
    pauseBackup: (jobId, reason = 'user') => jobCall('pauseBackup')(jobId, { reason }),
    resumeBackup: (jobId) => jobCall('resumeBackup')(jobId),
    cancelBackup: (jobId) => jobCall('cancelBackup')(jobId),
    retryBackup: (jobId) => jobCall('retryBackup')(jobId),
    listJobs: (options = {}) => pages<BackupJob>('listBackupJobs', 'jobs', { ...(options.status ? { status: options.status } : {}), ...(options.pageSize ? { limit: options.pageSize } : {}) }),
    listSnapshots: (options = {}) => pages<Snapshot>('listSnapshots', 'snapshots', options.pageSize ? { limit: options.pageSize } : {}),
    getSnapshot: async (snapshotId) => (await call<{ snapshot: Snapshot }>('getSnapshot', { snapshotId })).snapshot,
    verifySnapshot: async (snapshotId, options = {}) =>
      (await call<{ report: VerifyReport }>('verifySnapshot', { snapshotId, ...(options.samplePercent !== undefined ? { samplePercent: options.samplePercent } : {}) })).report,
  };
}
