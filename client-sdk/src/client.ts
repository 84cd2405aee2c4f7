/**
 * `createBackupClient`: the SDK's entry point. One options object with documented defaults,
 * injected platform ports, typed errors, progress callbacks, AbortSignal, async iterables. It
 * composes the pieces: the transport (transport.ts) that talks to the server, the runner
 * (backup-runner.ts) that drives each backup through its states, and the upload planner
 * (upload-planner.ts) the runner asks what to send.
 */
import type { CallableInput, CallableResult } from '@lifeboat/protocol';
import type { BackupProgress, BackupSources, StartBackupOptions, StartedBackup } from './backup-run';
import { runBackup, type RunnerDeps } from './backup-runner';
import { abortedError, BackupClientError } from './errors';
import { fetchHttp, type HttpPort } from './http';
import { memoryKeyValueStore, UploadLedger, type LedgerEntry } from './ledger';
import { DEFAULT_MEDIA_PART_BYTES, MAX_MEDIA_CHUNK_BYTES } from './media-file';
import type { DeviceState, FileSource, KeyValueStore } from './ports';
import { assertPieceSize } from './resumable-upload';
import { restoreSnapshot, type RestoreOptions, type RestoreResult } from './restore';
import { checkedHasher, nobleHasher, type Hasher } from './hasher';
import { changeE2ePassphrase, E2E_OVERHEAD_BYTES, type EndToEndOptions } from './e2e-encryption';
import { DEFAULT_TRANSPORT_RETRY, defaultSleep, type TransportRetryPolicy } from './retry';
import { LayoutStore } from './record-delta';
import { httpTransport } from './transport';
import { newIdempotencyKey } from './idempotency-key';
import { verifySnapshot, type VerifySnapshotOptions } from './verify';
import { TERMINAL_STATUSES, type BackupJob, type BackupOptions, type BackupType, type DeleteSnapshotResult, type DeletionReport, type JobStatus, type PauseReason, type RetentionPolicy, type RetentionPolicyResult, type Schedule, type ScheduleKind, type Snapshot, type VerifyReport } from './types';

export type { BackupProgress, BackupSources, ItemProgress, StartBackupOptions, StartedBackup } from './backup-run';

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
  const http = clientOptions.http ?? fetchHttp();
  const sleep = clientOptions.sleep ?? defaultSleep;
  const now = clientOptions.now ?? Date.now;
  const transport = httpTransport({ baseUrl: clientOptions.baseUrl, getToken: clientOptions.getToken, http, retry: clientOptions.retry ?? DEFAULT_TRANSPORT_RETRY, sleep, now, pieceSize });
  // Every callable goes through the transport's one `call`.
  const call = transport.call;

  const storage = clientOptions.storage ?? memoryKeyValueStore();
  const ledger = new UploadLedger(storage, clientOptions.deviceId);
  const runner: RunnerDeps = {
    deviceId: clientOptions.deviceId,
    transport,
    ledger,
    layouts: {
      contacts: new LayoutStore(storage, clientOptions.deviceId, 'contacts'),
      chats: new LayoutStore(storage, clientOptions.deviceId, 'chats'),
    },
    chunking: { maxChunkBytes, maxMediaChunkBytes, mediaPartBytes, pieceSize, hasher, ...(clientOptions.fileSource ? { fileSource: clientOptions.fileSource } : {}) },
    hasher,
    registerBatchSize: batchSize,
    window: { parallel: parallelUploads, pieceSize },
    sleep,
    now,
    ...(clientOptions.deviceState ? { deviceState: clientOptions.deviceState } : {}),
    ...(clientOptions.minFreeStorageBytes === undefined ? {} : { minFreeStorageBytes: clientOptions.minFreeStorageBytes }),
    constraintPollMs: clientOptions.constraintPollMs ?? 5000,
    ...(clientOptions.onProgress ? { onProgress: clientOptions.onProgress } : {}),
  };

  function startBackup(options: StartBackupOptions): Promise<StartedBackup> {
    return runBackup(runner, options, null, endToEnd);
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
    for await (const job of jobPages({ status: 'paused', limit: 100 }, signal)) {
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
      const entry: LedgerEntry = { jobId: job.id, types: job.types, options: job.options, startedAt: now(), inFlight: {} };
      await ledger.put(entry);
      await call('resumeBackup', { jobId: job.id }, options.signal);
      done.push(await continueRun(entry, options));
    }
    return done;
  }

  /** Runs the backup a ledger entry describes, on the job it names, from where that entry left it. */
  function continueRun(entry: LedgerEntry, options: ResumeOptions): Promise<StartedBackup> {
    return runBackup(
      runner,
      {
        types: entry.types,
        ...(entry.options ? { options: entry.options } : {}),
        sources: options.sources,
        jobId: entry.jobId,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      },
      entry,
      endToEnd,
    );
  }

  async function getJob(jobId: string, signal?: AbortSignal): Promise<BackupJob> {
    return (await call('getBackupJob', { jobId }, signal)).job;
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
        await sleep(interval, options.signal);
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

  /** The pages of a listing callable, asking for the next with its `nextPageToken` until there is none. */
  async function* pages<N extends 'listBackupJobs' | 'listSnapshots'>(name: N, data: Omit<CallableInput<N>, 'pageToken'>, signal?: AbortSignal): AsyncIterable<CallableResult<N>> {
    let pageToken: string | undefined;
    do {
      const page = await call(name, { ...data, ...(pageToken ? { pageToken } : {}) } as CallableInput<N>, signal);
      yield page;
      pageToken = page.nextPageToken;
    } while (pageToken);
  }

  async function* jobPages(data: Omit<CallableInput<'listBackupJobs'>, 'pageToken'>, signal?: AbortSignal): AsyncIterable<BackupJob> {
    for await (const page of pages('listBackupJobs', data, signal)) yield* page.jobs;
  }

  async function* snapshotPages(data: Omit<CallableInput<'listSnapshots'>, 'pageToken'>): AsyncIterable<Snapshot> {
    for await (const page of pages('listSnapshots', data)) yield* page.snapshots;
  }

  return {
    startBackup,
    resumePending,
    getJob,
    watchJob,
    waitForJob,
    pauseBackup: async (jobId, reason = 'user') => (await call('pauseBackup', { jobId, reason })).job,
    resumeBackup: async (jobId) => (await call('resumeBackup', { jobId })).job,
    cancelBackup: async (jobId) => (await call('cancelBackup', { jobId })).job,
    retryBackup: async (jobId) => (await call('retryBackup', { jobId })).job,
    listJobs: (options = {}) => jobPages({ ...(options.status ? { status: options.status } : {}), ...(options.pageSize ? { limit: options.pageSize } : {}) }),
    listSnapshots: (options = {}) => snapshotPages(options.pageSize ? { limit: options.pageSize } : {}),
    getSnapshot: async (snapshotId) => (await call('getSnapshot', { snapshotId })).snapshot,
    verifySnapshot: (snapshotId, options = {}) => verifySnapshot({ call, sleep, now }, snapshotId, options),
    restore: (options) => restoreSnapshot({ call, http, hasher, ...(endToEnd ? { endToEnd } : {}) }, options),
    runPendingScheduled: (options) => runScheduled(options, new Set()),
    setSchedule: async (schedule) => {
      // A scheduled run of an end-to-end client must be created end to end (see runBackup's check).
      const options = endToEnd ? { ...schedule.options, endToEnd: true } : schedule.options;
      return (
        await call('setSchedule', {
          ...schedule,
          ...(options ? { options } : {}),
          deviceId: schedule.deviceId ?? clientOptions.deviceId,
          scheduleId: schedule.scheduleId ?? newIdempotencyKey(),
        })
      ).schedule;
    },
    listSchedules: async () => (await call('listSchedules', {})).schedules,
    deleteSchedule: async (scheduleId) => {
      await call('deleteSchedule', { scheduleId });
    },
    registerDevice: (fcmToken) => call('registerDevice', { deviceId: clientOptions.deviceId, fcmToken }),
    getRetentionPolicy: () => call('getRetentionPolicy', {}),
    setRetentionPolicy: (policy) => call('setRetentionPolicy', { policy }),
    deleteSnapshot: (snapshotId, signal) => call('deleteSnapshot', { snapshotId }, signal),
    deleteMyData: async (options = {}) => {
      for (;;) {
        const { deletion } = await call('deleteMyData', { confirm: true }, options.signal);
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
