/**
 * `createBackupClient`: the SDK's entry point. One options object with documented defaults,
 * injected platform ports, typed errors, progress callbacks, AbortSignal, async iterables.
 */
import { callFunction, type CallableOptions } from './callable';
import { chatChunks, contactChunks, deviceInfoChunk, type ChatRecord, type Chunk, type ContactRecord, type DeviceInfoRecord, type RecordSource } from './chunker';
import { LayoutStore, planRecordChunks, type DeltaType, type PlannedChunk, type RecordLayout } from './record-delta';
import { abortedError, BackupClientError } from './errors';
import { brokenConstraint, constraintsFor, waitForConstraints } from './constraints';
import { fetchHttp, type HttpPort } from './http';
import { memoryKeyValueStore, UploadLedger, type InFlightUpload, type LedgerEntry } from './ledger';
import { DEFAULT_MAX_MEDIA_SIZE_MB, DEFAULT_MEDIA_PART_BYTES, isInMemory, MAX_MEDIA_CHUNK_BYTES, mediaChunks, type MediaChunkFile, type MediaItem, type UploadChunk } from './media-file';
import type { DeviceState, FileSource, KeyValueStore } from './ports';
import { assertPieceSize, uploadResumable, type RangeReader } from './resumable-upload';
import { restoreSnapshot, type RestoreOptions, type RestoreResult } from './restore';
import { checkedHasher, nobleHasher, type Hasher } from './hasher';
import { changeE2ePassphrase, E2E_OVERHEAD_BYTES, encryptChunks, loadE2eKey, type EndToEndOptions } from './e2e-encryption';
import { DEFAULT_TRANSPORT_RETRY, defaultSleep, type ServerWait, type TransportRetryPolicy } from './retry';
import { ServerWaitWatch } from './server-waits';
import { newIdempotencyKey } from './idempotency-key';
import { verifySnapshot, type VerifySnapshotOptions } from './verify';
import { TERMINAL_STATUSES, type BackupJob, type BackupOptions, type DeleteSnapshotResult, type DeletionReport, type BackupType, type ChunkState, type JobStatus, type PauseReason, type RetentionPolicy, type RetentionPolicyResult, type Schedule, type ScheduleKind, type Snapshot, type VerifyReport } from './types';

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
  /**
   * Retries of transient transport failures, and the longest the SDK waits when the server says
   * how long to (`Retry-After` or `details.retryAfterMs`, e.g. while garbage collection holds the
   * user's lease); meanwhile progress shows `waiting` with `serverWait`.
   * @default 1 s, 2 s, 4 s, 8 s, 16 s; server-asked waits up to 2 minutes
   */
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
  /**
   * Opens the files media items name by `path` (`nodeFileSource()` from
   * `@lifeboat/client-sdk/node`, `blobFileSource()` in a browser). Files are read piece by piece,
   * never whole. @default none: media items must carry their `bytes`
   */
  fileSource?: FileSource;
  /**
   * Largest part of a media file too big for one chunk, envelope included; at most
   * `maxMediaChunkBytes`. Equal to the piece size, each part goes in one request. @default 8 MiB
   */
  mediaPartBytes?: number;
  /** A media file whose envelope fits this is one chunk; larger files go in parts. @default 16 MiB (the server's limit) */
  maxMediaChunkBytes?: number;
  /**
   * Chunks uploaded at once. Small chunks (contacts, chats) go in parallel; the bytes in flight
   * never pass one upload piece, so memory stays one piece and a kill loses at most one piece.
   * @default 4
   */
  parallelUploads?: number;
  /**
   * The SHA-256 that names chunks and checks restored blobs (hasher.ts): a native one is about ten
   * times faster on large media (client-sdk/README.md, "Hashing"); checked on first use.
   * @default nobleHasher (pure JS); `nodeHasher()` (node:crypto) from `@lifeboat/client-sdk/node`
   */
  hasher?: Hasher;
  /**
   * End-to-end encryption: every backup this client starts is encrypted on the device with a key
   * derived from the passphrase, and restores decrypt with it. The server stores opaque chunks
   * (no compression, no media re-encoding, no item-level verify, diff or incremental); equal
   * chunks are visible to it as equal (convergent encryption, so dedup works); a lost
   * passphrase is lost data. A wrong one fails with `backup/wrong-passphrase` before anything is
   * uploaded or restored. See docs/invariants.md, "End-to-end encryption". @default none
   */
  endToEnd?: EndToEndOptions;
}

/** What the device backs up, per type. */
export interface BackupSources {
  /** Chat messages of every conversation; see ChatRecord. */
  chats?: RecordSource<ChatRecord>;
  contacts?: RecordSource<ContactRecord>;
  deviceInfo?: DeviceInfoRecord | (() => DeviceInfoRecord | Promise<DeviceInfoRecord>);
  /**
   * Photos, videos, audio and other files: `bytes` in memory, or a `path` the client's
   * `fileSource` reads piece by piece (a 2 GB video is never in memory). A file up to 16 MiB is one
   * chunk; a larger one goes in parts of `mediaPartBytes`, stored as is and joined on restore.
   */
  media?: RecordSource<MediaItem>;
}

export interface StartBackupOptions {
  types: BackupType[];
  /** @default the server's defaults (see BackupOptions) */
  options?: BackupOptions;
  sources: BackupSources;
  /**
   * Idempotency key: starting again with the same id continues the same job. @default a random key
   * made before the first `createBackupJob` attempt and sent on every retry, so a retry whose
   * first answer was lost returns the job the first attempt created
   */
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
  /**
   * `waiting`: paused until the device meets the constraints again (see `pauseReason`), or
   * waiting as the server asked (see `serverWait`).
   */
  phase: 'preparing' | 'uploading' | 'waiting' | 'committed';
  pauseReason: PauseReason | null;
  /**
   * Present while the SDK waits because the server asked it to (`Retry-After`): why
   * (`gc-in-progress`, `disk-full`, ...), which call, and when it asks again (epoch ms). The
   * backup carries on by itself; it fails only once the wait passes `retry.maxWaitMs`.
   */
  serverWait?: { reason: string; retryAt: number; call: string };
  chunksTotal: number;
  /** Chunks the server has: uploaded now, or already there. */
  chunksDone: number;
  itemsTotal: number;
  bytesTotal: number;
  bytesUploaded: number;
  bytesDeduplicated: number;
  /** Bytes of media files read and hashed so far (while `preparing`, a file at a time). */
  bytesHashed: number;
  /** The media file being hashed or uploaded at the moment, with its own bytes; null otherwise. */
  currentItem: ItemProgress | null;
}

/** Progress of one media file: while the SDK hashes it, and while its chunks go up. */
export interface ItemProgress {
  type: 'media';
  sourceId: string;
  name: string;
  step: 'hashing' | 'uploading';
  /** Bytes of the file hashed, or of its chunks the server acknowledged. */
  bytesDone: number;
  /** Bytes of the file (hashing), or of the chunks of it this backup sends (uploading). */
  bytes: number;
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
  /**
   * Also run the scheduled backups waiting for this device (`waiting_for_device`, see
   * `runPendingScheduled`). @default true
   */
  includeScheduled?: boolean;
}

/** A schedule as `setSchedule` takes it; see docs/invariants.md, "Schedules". */
export interface ScheduleInput {
  /**
   * Replaces the caller's schedule with this id. @default a new schedule, under a random id made
   * before the first attempt and sent on every retry (a retried call never creates two)
   */
  scheduleId?: string;
  /** @default this client's deviceId */
  deviceId?: string;
  /** `nightly` 02:00, `weekly` Sunday 02:00, `custom` every N hours or a cron line. */
  kind: ScheduleKind;
  types: BackupType[];
  /** @default the server's defaults (see BackupOptions) */
  options?: BackupOptions;
  /** IANA name, e.g. `Europe/London`; times are computed in it (DST included). */
  timeZone: string;
  /** For `custom`: every N hours (1..744); exactly one of everyHours or cron. */
  everyHours?: number;
  /** For `custom`: a five-field cron line, e.g. `30 3 * * 1-5`. */
  cron?: string;
  /** @default true */
  enabled?: boolean;
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
  /**
   * Has the server re-read a snapshot's blobs (or a sampled share) and report problems by item. A
   * large snapshot is checked in rounds on the server: this then polls the snapshot's verify
   * record (`onProgress`, every `pollIntervalMs`) until it is done; such a report lists the first
   * 100 problems (`problemCount` counts all). A call while a verify of the snapshot runs joins it.
   */
  verifySnapshot(snapshotId: string, options?: VerifySnapshotOptions): Promise<VerifyReport>;
  /** Restores all or part of a snapshot into the host's sink, hash-checking every blob (restore.ts). */
  restore(options: RestoreOptions): Promise<RestoreResult>;
  /**
   * Runs the scheduled backups the server's dispatcher created for this device and that wait for
   * it (`paused`, `waiting_for_device`), oldest first, with the given sources; each is recorded in
   * the ledger before it starts, so a kill is resumed by `resumePending`. Call it when the wake-up
   * message arrives (FCM) or the app opens. `resumePending` does this too unless told not to.
   */
  runPendingScheduled(options: Omit<ResumeOptions, 'includeScheduled'>): Promise<StartedBackup[]>;
  /** Creates a schedule, or replaces the caller's schedule with the same `scheduleId`. */
  setSchedule(schedule: ScheduleInput): Promise<Schedule>;
  /** The caller's schedules (at most 20). */
  listSchedules(): Promise<Schedule[]>;
  deleteSchedule(scheduleId: string): Promise<void>;
  /**
   * Records this device's push token (FCM registration token), so the server can wake the app when
   * a scheduled backup is due; `null` withdraws it. Call it at start-up and whenever the token changes.
   */
  registerDevice(fcmToken: string | null): Promise<{ deviceId: string; registered: boolean }>;
  /** The retention policy that applies to the caller (theirs, else the deployment's default). */
  getRetentionPolicy(): Promise<RetentionPolicyResult>;
  /**
   * Sets the caller's retention policy (fields left out take their defaults), or with `null` goes
   * back to the deployment's default. It applies from the next completed backup.
   */
  setRetentionPolicy(policy: Partial<RetentionPolicy> | null): Promise<RetentionPolicyResult>;
  /**
   * End-to-end clients: changes the user's passphrase. The key that encrypts the backups stays
   * the same (it is re-wrapped, nothing is re-encrypted), so every snapshot stays readable with the
   * new passphrase and this client uses it from now on; other devices need it too
   * (`backup/wrong-passphrase` until they have it). `backup/aborted` when another device changed
   * it meanwhile.
   */
  changePassphrase(newPassphrase: string, signal?: AbortSignal): Promise<void>;
  /**
   * Deletes one of the caller's snapshots: it is no longer listed or restorable at once, and its
   * data is freed by the server's garbage collection (what other snapshots share stays).
   * Deleting one that is gone already is harmless (`deleted: false`).
   */
  deleteSnapshot(snapshotId: string, signal?: AbortSignal): Promise<DeleteSnapshotResult>;
  /**
   * Deletes all of the caller's data on the server, for good: every backup, schedule, device
   * registration and setting. Their unfinished backups are cancelled and their data key is
   * destroyed first, so nothing is readable from the first call on; the SDK then calls again
   * (each call works for up to 40 s) until the data is gone, reporting each step to `onProgress`,
   * and resolves with status `reclaimed` or `done`. New backups are refused until `settlesAt`.
   * This client's own ledger of unfinished backups is cleared too.
   */
  deleteMyData(options?: { onProgress?: (report: DeletionReport) => void; signal?: AbortSignal }): Promise<DeletionReport>;
}

const SUPPORTED_TYPES: readonly BackupType[] = ['chats', 'contacts', 'deviceInfo', 'media'];
/** Types whose chunks may go up as recipes (record-delta.ts). */
const DELTA_TYPES: readonly DeltaType[] = ['contacts', 'chats'];
const MIB = 1024 * 1024;

export function createBackupClient(clientOptions: BackupClientOptions): BackupClient {
  const pieceSize = clientOptions.uploadPieceSize ?? 8 * MIB;
  assertPieceSize(pieceSize);
  const maxChunkBytes = clientOptions.maxChunkBytes ?? MIB;
  const batchSize = clientOptions.registerBatchSize ?? 250;
  // End to end, a chunk grows by the encryption's overhead on its way out: room is left for it.
  // The passphrase this client uses; changePassphrase replaces it.
  let endToEnd: EndToEndOptions | undefined = clientOptions.endToEnd;
  const e2eOverhead = endToEnd ? E2E_OVERHEAD_BYTES : 0;
  const maxMediaChunkBytes = (clientOptions.maxMediaChunkBytes ?? MAX_MEDIA_CHUNK_BYTES) - e2eOverhead;
  const mediaPartBytes = (clientOptions.mediaPartBytes ?? Math.min(DEFAULT_MEDIA_PART_BYTES, maxMediaChunkBytes + e2eOverhead)) - e2eOverhead;
  const parallelUploads = clientOptions.parallelUploads ?? 4;
  const hasher = checkedHasher(clientOptions.hasher ?? nobleHasher);
  if (!Number.isInteger(parallelUploads) || parallelUploads < 1 || parallelUploads > 32) {
    throw new BackupClientError('backup/invalid-argument', 'parallelUploads must be 1..32');
  }
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 250) {
    throw new BackupClientError('backup/invalid-argument', 'registerBatchSize must be 1..250');
  }
  // Every wait the server asks for reaches the progress of the backup it concerns (server-waits.ts).
  const waitWatches = new Set<(wait: ServerWait) => void>();
  const callable: CallableOptions = {
    baseUrl: clientOptions.baseUrl,
    getToken: clientOptions.getToken,
    http: clientOptions.http ?? fetchHttp(),
    retry: clientOptions.retry ?? DEFAULT_TRANSPORT_RETRY,
    sleep: clientOptions.sleep ?? defaultSleep,
    now: clientOptions.now ?? Date.now,
    onWait: (wait) => {
      for (const watch of waitWatches) watch(wait);
    },
  };
  const call = <T>(name: string, data: unknown, signal?: AbortSignal) => callFunction<T>(callable, name, data, signal);

  async function buildChunks(types: BackupType[], sources: BackupSources, options: BackupOptions | undefined, onHashed: (file: MediaChunkFile, bytesHashed: number) => void): Promise<UploadChunk[]> {
    const chunks: UploadChunk[] = [];
    for (const type of types) {
      if (type === 'chats') {
        if (!sources.chats) throw new BackupClientError('backup/invalid-argument', 'types include chats but sources.chats is missing');
        // One push per chunk: spreading an unbounded array into a call overflows the stack.
        for (const chunk of await chatChunks(sources.chats, maxChunkBytes, hasher)) chunks.push(chunk);
      } else if (type === 'contacts') {
        if (!sources.contacts) throw new BackupClientError('backup/invalid-argument', 'types include contacts but sources.contacts is missing');
        for (const chunk of await contactChunks(sources.contacts, maxChunkBytes, hasher)) chunks.push(chunk);
      } else if (type === 'deviceInfo') {
        if (!sources.deviceInfo) throw new BackupClientError('backup/invalid-argument', 'types include deviceInfo but sources.deviceInfo is missing');
        chunks.push(await deviceInfoChunk(sources.deviceInfo, hasher));
      } else if (type === 'media') {
        if (!sources.media) throw new BackupClientError('backup/invalid-argument', 'types include media but sources.media is missing');
        const media = await mediaChunks(sources.media, {
          ...(clientOptions.fileSource ? { fileSource: clientOptions.fileSource } : {}),
          maxChunkBytes: maxMediaChunkBytes,
          partBytes: mediaPartBytes,
          readBytes: Math.min(pieceSize, MIB),
          maxFileBytes: (options?.maxMediaSizeMB ?? DEFAULT_MAX_MEDIA_SIZE_MB) * MIB,
          hasher,
          onHashed,
        });
        for (const chunk of media) chunks.push(chunk);
      }
    }
    return chunks;
  }

  const storage = clientOptions.storage ?? memoryKeyValueStore();
  const ledger = new UploadLedger(storage, clientOptions.deviceId);
  const layouts: Record<DeltaType, LayoutStore> = {
    contacts: new LayoutStore(storage, clientOptions.deviceId, 'contacts'),
    chats: new LayoutStore(storage, clientOptions.deviceId, 'chats'),
  };

  /**
   * The layout of `type` to plan against: a resumed run takes the one its first run took (so it
   * registers the same chunks), a new run the last one saved. The server decides what the plan
   * may rely on: a chunk it has is known by its id, and a recipe whose references it lacks comes
   * back `unresolved` and goes whole, so an outdated layout costs bytes, never records.
   */
  async function deltaBase(type: DeltaType, resuming: LedgerEntry | null): Promise<RecordLayout | null> {
    const layout = await layouts[type].get();
    if (resuming) return layout && resuming.deltaBases?.[type] === layout.jobId ? layout : null;
    return layout;
  }

  async function uploadChunk(
    jobId: string,
    chunk: UploadChunk,
    signal: AbortSignal | undefined,
    onBytes: (acknowledged: number) => void,
    previous: InFlightUpload | undefined,
  ): Promise<void> {
    const upload = (uploadUrl: string, body: Uint8Array | RangeReader, resume: boolean) =>
      uploadResumable(uploadUrl, body, {
        http: callable.http,
        pieceSize,
        retry: callable.retry,
        sleep: callable.sleep,
        now: callable.now,
        resume,
        jobId,
        ...(callable.onWait ? { onWait: callable.onWait } : {}),
        ...(signal ? { signal } : {}),
        onAcknowledged: (n) => {
          onBytes(n);
          // Progress only (the session knows its offset), so a failed write is not the upload's
          // failure; the last acknowledgement is followed at once by dropping the session.
          if (n < chunk.size) ledger.acknowledge(jobId, chunk.id, n).catch(() => undefined);
        },
      });
    const send = async (uploadUrl: string, resume: boolean): Promise<void> => {
      if (isInMemory(chunk)) {
        await upload(uploadUrl, chunk.bytes, resume);
        return;
      }
      // A file chunk is opened per session and read one piece per request.
      const reader = await chunk.open();
      try {
        await upload(uploadUrl, { size: chunk.size, read: (offset, length, into) => reader.read(offset, length, into) }, resume);
      } finally {
        await reader.close();
      }
    };
    const expired = (err: unknown) => err instanceof BackupClientError && err.code === 'backup/upload-session-expired';
    // The session an interrupted run left for this chunk: continue it from the server's offset.
    if (previous) {
      try {
        await send(previous.uploadUrl, true);
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
      // Recorded before the first byte, so a kill at any point leaves the session to continue.
      await ledger.setInFlight(jobId, chunk.id, { chunkId: chunk.id, uploadUrl: begun.uploadUrl, expiresAt: begun.expiresAt, acknowledged: 0 });
      try {
        await send(begun.uploadUrl, false);
        return;
      } catch (err) {
        if (!expired(err) || sessions >= 2) throw err;
      }
    }
  }

  /**
   * Uploads chunks up to `parallelUploads` at a time, checking the constraints before each. A
   * chunk starts only while the bytes in flight stay within one piece (a chunk larger than a
   * piece goes alone), so memory holds one piece and a kill loses at most one piece. The first
   * failure stops the others and is rethrown once they have settled.
   */
  async function uploadMissing(
    queue: UploadChunk[],
    run: {
      jobId: string;
      signal: AbortSignal | undefined;
      previous: Record<string, InFlightUpload>;
      hold: (settleInFlight: () => Promise<void>) => Promise<void>;
      onAcknowledged: (delta: number, chunk: UploadChunk) => void;
      onChunkDone: () => void;
    },
  ): Promise<void> {
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    run.signal?.addEventListener('abort', onAbort, { once: true });
    if (run.signal?.aborted) stop.abort();
    const running = new Set<Promise<void>>();
    let inFlightBytes = 0;
    let failure: { error: unknown } | null = null;
    const settle = async () => {
      while (running.size > 0) await Promise.race(running);
    };
    try {
      for (const chunk of queue) {
        const cost = Math.min(chunk.size, pieceSize);
        while (running.size > 0 && (running.size >= parallelUploads || inFlightBytes + cost > pieceSize)) await Promise.race(running);
        if (failure) break;
        if (stop.signal.aborted) throw abortedError();
        await run.hold(settle);
        if (failure) break;
        inFlightBytes += cost;
        let acknowledged = 0;
        // Settles itself out of `running`; declared first so the closure can name it.
        let task: Promise<void> = Promise.resolve();
        task = (async () => {
          try {
            await uploadChunk(run.jobId, chunk, stop.signal, (n) => {
              run.onAcknowledged(n - acknowledged, chunk);
              acknowledged = n;
            }, run.previous[chunk.id]);
            await ledger.setInFlight(run.jobId, chunk.id, null);
            run.onChunkDone();
          } catch (error) {
            failure ??= { error };
            stop.abort();
          } finally {
            inFlightBytes -= cost;
            running.delete(task);
          }
        })();
        running.add(task);
      }
      await settle();
    } catch (error) {
      failure ??= { error };
      stop.abort();
      await settle();
    } finally {
      run.signal?.removeEventListener('abort', onAbort);
    }
    if (run.signal?.aborted) throw abortedError();
    if (failure) throw (failure as { error: unknown }).error;
  }

  function startBackup(options: StartBackupOptions): Promise<StartedBackup> {
    return runBackup(options, null);
  }

  async function resumePending(options: ResumeOptions): Promise<StartedBackup[]> {
    const resumed: StartedBackup[] = [];
    const entries = await ledger.list();
    for (const entry of entries) {
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
      resumed.push(await continueRun(entry, options));
    }
    if (options.includeScheduled ?? true) {
      const ledgered = new Set(entries.map((e) => e.jobId));
      for (const run of await runScheduled(options, ledgered)) resumed.push(run);
    }
    return resumed;
  }

  /** The runs the schedule dispatcher created for this device, waiting for it (`waiting_for_device`). */
  async function waitingScheduledJobs(signal?: AbortSignal): Promise<BackupJob[]> {
    const waiting: BackupJob[] = [];
    for await (const job of pages<BackupJob>('listBackupJobs', 'jobs', { status: 'paused', limit: 100 }, signal)) {
      if (job.pauseReason === 'waiting_for_device' && job.deviceId === clientOptions.deviceId) waiting.push(job);
    }
    // Oldest first: the order the schedule asked for them.
    return waiting.sort((a, b) => a.createdAt - b.createdAt);
  }

  async function runScheduled(options: ResumeOptions, skip: ReadonlySet<string>): Promise<StartedBackup[]> {
    const done: StartedBackup[] = [];
    for (const job of await waitingScheduledJobs(options.signal)) {
      if (skip.has(job.id)) continue;
      // In the ledger before the job leaves `waiting_for_device`: a kill from here on is resumed
      // from the ledger, never left running with nobody uploading.
      const entry: LedgerEntry = { jobId: job.id, types: job.types, options: job.options, startedAt: callable.now(), inFlight: {} };
      await ledger.put(entry);
      await call('resumeBackup', { jobId: job.id }, options.signal);
      done.push(await continueRun(entry, options));
    }
    return done;
  }

  /** Runs the backup a ledger entry describes, on the job it names, from where that entry left it. */
  function continueRun(entry: LedgerEntry, options: ResumeOptions): Promise<StartedBackup> {
    return runBackup(
      {
        types: entry.types,
        ...(entry.options ? { options: entry.options } : {}),
        sources: options.sources,
        jobId: entry.jobId,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      },
      entry,
    );
  }

  /** Runs one backup with a watch that shows the server's waits in its progress. */
  async function runBackup(options: StartBackupOptions, resuming: LedgerEntry | null): Promise<StartedBackup> {
    const watch = new ServerWaitWatch<BackupProgress>();
    waitWatches.add(watch.listener);
    try {
      return await runWatchedBackup(options, resuming, watch);
    } finally {
      waitWatches.delete(watch.listener);
    }
  }

  async function runWatchedBackup(options: StartBackupOptions, resuming: LedgerEntry | null, watch: ServerWaitWatch<BackupProgress>): Promise<StartedBackup> {
    const { signal } = options;
    const unsupported = options.types.filter((t) => !SUPPORTED_TYPES.includes(t));
    if (options.types.length === 0) throw new BackupClientError('backup/invalid-argument', 'types must name at least one type');
    if (unsupported.length > 0) throw new BackupClientError('backup/unimplemented', `this SDK cannot back up ${unsupported.join(', ')} yet`);
    const emit = (p: BackupProgress) => {
      clientOptions.onProgress?.(p);
      options.onProgress?.(p);
    };
    const progress: BackupProgress = { jobId: null, phase: 'preparing', pauseReason: null, chunksTotal: 0, chunksDone: 0, itemsTotal: 0, bytesTotal: 0, bytesUploaded: 0, bytesDeduplicated: 0, bytesHashed: 0, currentItem: null };
    emit({ ...progress });
    watch.attach(progress, emit);

    if (!endToEnd && options.options?.endToEnd) {
      throw new BackupClientError('backup/passphrase-required', 'this backup is end-to-end encrypted: create the client with `endToEnd: { passphrase }`');
    }
    // Checked before any chunk is built or sent: a wrong passphrase changes nothing.
    const key = endToEnd ? await loadE2eKey(call, endToEnd, true, signal) : null;
    const jobOptions: BackupOptions | undefined = endToEnd ? { ...options.options, endToEnd: true } : options.options;
    let lastHashed = 0;
    const plainChunks = await buildChunks(options.types, options.sources, jobOptions, (file, bytesHashed) => {
      // A new file starts at 0; each call adds what was read since the last.
      const delta = progress.currentItem?.sourceId === file.sourceId ? bytesHashed - lastHashed : bytesHashed;
      lastHashed = bytesHashed;
      progress.bytesHashed += delta;
      progress.currentItem = { type: 'media', sourceId: file.sourceId, name: file.name, step: 'hashing', bytesDone: bytesHashed, bytes: file.size };
      emit({ ...progress, currentItem: { ...progress.currentItem } });
    });
    progress.currentItem = null;
    const chunks = key ? await encryptChunks(plainChunks, key) : plainChunks;
    if (signal?.aborted) throw abortedError();
    progress.chunksTotal = chunks.length;
    progress.itemsTotal = chunks.reduce((n, c) => n + c.items, 0);
    progress.bytesTotal = chunks.reduce((n, c) => n + c.size, 0);

    // The key is made before the first attempt: every transport retry sends the same one.
    const { job: created } = await call<{ job: BackupJob }>(
      'createBackupJob',
      { deviceId: clientOptions.deviceId, types: options.types, ...(jobOptions ? { options: jobOptions } : {}), jobId: options.jobId ?? newIdempotencyKey() },
      signal,
    );
    const jobId = created.id;
    // A job created elsewhere (a schedule, another client) must agree: the server reads plaintext
    // chunks and only stores end-to-end ones.
    // (A job without options, from an older server, counts as not end to end.)
    const createdEndToEnd = (created.options as Partial<BackupOptions> | undefined)?.endToEnd === true;
    if (createdEndToEnd !== (key !== null)) {
      throw new BackupClientError(
        key ? 'backup/failed-precondition' : 'backup/passphrase-required',
        key ? `job ${jobId} was created without end-to-end encryption; start a new one` : `job ${jobId} is end-to-end encrypted: create the client with \`endToEnd: { passphrase }\``,
      );
    }
    progress.jobId = jobId;
    // Contacts and chats against the layout of this device's last backup of them: changed
    // records only, plus references to the ones the server holds (record-delta.ts);
    // registerChunks tells which references it still has, after its GC fence, so they stay
    // until this job ends. End-to-end chunks are opaque to the server: never recipes.
    const deltaTypes = key === null ? DELTA_TYPES.filter((t) => options.types.includes(t)) : [];
    const bases: Partial<Record<DeltaType, string>> = {};
    const planned = new Map<string, PlannedChunk>();
    for (const type of deltaTypes) {
      const base = await deltaBase(type, resuming);
      if (base) bases[type] = base.jobId;
      const own = chunks.filter((c): c is Chunk => c.type === type && isInMemory(c));
      for (const plan of planRecordChunks(type, own, base, hasher)) planned.set(plan.logical.id, plan);
    }
    for (const [i, c] of chunks.entries()) {
      const plan = planned.get(c.id);
      if (plan && c.type === plan.logical.type) chunks[i] = plan.chunk;
    }
    progress.bytesTotal = chunks.reduce((n, c) => n + c.size, 0);
    if (!resuming) {
      await ledger.put({
        jobId,
        types: options.types,
        ...(jobOptions ? { options: jobOptions } : {}),
        startedAt: callable.now(),
        inFlight: {},
        ...(Object.keys(bases).length > 0 ? { deltaBases: bases } : {}),
      });
    }
    progress.phase = 'uploading';
    emit({ ...progress });

    const constraints = constraintsFor(jobOptions, clientOptions.minFreeStorageBytes);
    /** Pauses the job while the device breaks a constraint, and resumes it once it holds. */
    const holdConstraints = async (settleInFlight?: () => Promise<void>): Promise<void> => {
      const device = clientOptions.deviceState;
      if (!device) return;
      const reason = brokenConstraint(await device.getState(), constraints);
      if (!reason) return;
      // Chunks already in flight finish (or fail) first: the job is paused with nothing moving.
      await settleInFlight?.();
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

    const refsOf = new Map([...planned.values()].filter((p) => p.refs.length > 0).map((p) => [p.chunk.id, p.refs] as const));
    const missing = new Set<string>();
    const register = async (batch: UploadChunk[]): Promise<string[]> => {
      const answer = await call<{ missing: string[]; known: string[]; unresolved?: string[] }>(
        'registerChunks',
        { jobId, chunks: batch.map(({ id, type, size, items }) => ({ id, type, size, items, ...(refsOf.has(id) ? { refs: refsOf.get(id) } : {}) })) },
        signal,
      );
      for (const id of answer.missing) missing.add(id);
      const unresolved = new Set(answer.unresolved ?? []);
      for (const chunk of batch) {
        if (missing.has(chunk.id) || unresolved.has(chunk.id)) continue;
        progress.chunksDone += 1;
        progress.bytesDeduplicated += chunk.size;
      }
      emit({ ...progress });
      return [...unresolved];
    };
    for (let i = 0; i < chunks.length; i += batchSize) {
      const unresolved = await register(chunks.slice(i, i + batchSize));
      if (unresolved.length === 0) continue;
      // The server no longer holds what these recipes refer to: their records go whole.
      const whole: Chunk[] = [];
      for (const plan of planned.values()) {
        if (!unresolved.includes(plan.chunk.id)) continue;
        chunks[chunks.indexOf(plan.chunk)] = plan.logical;
        refsOf.delete(plan.chunk.id);
        plan.chunk = plan.logical;
        plan.refs = [];
        plan.layout = { logical: plan.logical.id, wire: plan.logical.id, records: plan.layout.records };
        whole.push(plan.logical);
      }
      await register(whole);
    }
    progress.bytesTotal = chunks.reduce((n, c) => n + c.size, 0);

    const toUpload = chunks.filter((chunk) => missing.delete(chunk.id));
    // Per file: the bytes of its chunks this backup sends, and how many the server acknowledged.
    const fileBytes = new Map<string, { total: number; done: number }>();
    for (const chunk of toUpload) {
      if (!chunk.file) continue;
      const sums = fileBytes.get(chunk.file.sourceId) ?? { total: 0, done: 0 };
      sums.total += chunk.size;
      fileBytes.set(chunk.file.sourceId, sums);
    }
    await uploadMissing(toUpload, {
      jobId,
      signal,
      previous: resuming?.inFlight ?? {},
      hold: holdConstraints,
      onAcknowledged: (delta, chunk) => {
        progress.bytesUploaded += delta;
        const sums = chunk.file ? fileBytes.get(chunk.file.sourceId) : undefined;
        if (chunk.file && sums) {
          sums.done += delta;
          progress.currentItem = { type: 'media', sourceId: chunk.file.sourceId, name: chunk.file.name, step: 'uploading', bytesDone: sums.done, bytes: sums.total };
        }
        emit({ ...progress, currentItem: progress.currentItem && { ...progress.currentItem } });
      },
      onChunkDone: () => {
        progress.chunksDone += 1;
        emit({ ...progress });
      },
    });

    const { job } = await call<{ job: BackupJob }>('commitUpload', { jobId, chunkCount: new Set(chunks.map((c) => c.id)).size }, signal);
    // The next backup of these types plans against this one.
    for (const type of deltaTypes) {
      await layouts[type].put({ version: 1, jobId, chunks: [...planned.values()].filter((p) => p.logical.type === type).map((p) => p.layout) });
    }
    await ledger.remove(jobId);
    progress.phase = 'committed';
    progress.currentItem = null;
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

  async function* pages<T>(name: string, key: string, data: Record<string, unknown>, signal?: AbortSignal): AsyncIterable<T> {
    let pageToken: string | undefined;
    do {
      const page = await call<Record<string, unknown>>(name, { ...data, ...(pageToken ? { pageToken } : {}) }, signal);
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
    verifySnapshot: (snapshotId, options = {}) => verifySnapshot({ call, sleep: callable.sleep, now: callable.now }, snapshotId, options),
    restore: (options) => restoreSnapshot({ call, http: callable.http, hasher, ...(endToEnd ? { endToEnd } : {}) }, options),
    runPendingScheduled: (options) => runScheduled(options, new Set()),
    setSchedule: async (schedule) => {
      // A scheduled run of an end-to-end client must be created end to end (see runBackup's check).
      const options = endToEnd ? { ...schedule.options, endToEnd: true } : schedule.options;
      return (
        await call<{ schedule: Schedule }>('setSchedule', {
          ...schedule,
          ...(options ? { options } : {}),
          deviceId: schedule.deviceId ?? clientOptions.deviceId,
          scheduleId: schedule.scheduleId ?? newIdempotencyKey(),
        })
      ).schedule;
    },
    listSchedules: async () => (await call<{ schedules: Schedule[] }>('listSchedules', {})).schedules,
    deleteSchedule: async (scheduleId) => {
      await call('deleteSchedule', { scheduleId });
    },
    registerDevice: (fcmToken) => call('registerDevice', { deviceId: clientOptions.deviceId, fcmToken }),
    getRetentionPolicy: () => call('getRetentionPolicy', {}),
    setRetentionPolicy: (policy) => call('setRetentionPolicy', { policy }),
    deleteSnapshot: (snapshotId, signal) => call<DeleteSnapshotResult>('deleteSnapshot', { snapshotId }, signal),
    deleteMyData: async (options = {}) => {
      for (;;) {
        const { deletion } = await call<{ deletion: DeletionReport }>('deleteMyData', { confirm: true }, options.signal);
        options.onProgress?.(deletion);
        if (deletion.status !== 'running') {
          // The jobs the ledger names are gone with the rest.
          for (const entry of await ledger.list()) await ledger.remove(entry.jobId);
          return deletion;
        }
      }
    },
    changePassphrase: async (newPassphrase, signal) => {
      if (!endToEnd) throw new BackupClientError('backup/passphrase-required', 'changePassphrase is for end-to-end clients: create the client with `endToEnd: { passphrase }`');
      await changeE2ePassphrase(call, endToEnd, newPassphrase, signal);
      endToEnd = { ...endToEnd, passphrase: newPassphrase };
    },
  };
}
