/**
 * The backup runner: drives one run through its states (run-state.ts), performing each state's
 * effect through the transport, the ledger and the device, and asking the upload planner
 * (upload-planner.ts) what to register, upload and commit. Its progress is the run's
 * `BackupProgress`; the server's waits show in it (server-waits.ts).
 */
import type { ApiCall } from './callable';
import type { BackupProgress, StartBackupOptions, StartedBackup } from './backup-run';
import { ChunkUploads } from './chunk-uploads';
import { brokenConstraint, constraintsFor, waitForConstraints, type Constraints } from './constraints';
import { encryptChunks, loadE2eKey, type E2eKey, type EndToEndOptions } from './e2e-encryption';
import { abortedError, BackupClientError } from './errors';
import type { Hasher } from './hasher';
import { newIdempotencyKey } from './idempotency-key';
import type { LedgerEntry, UploadLedger } from './ledger';
import type { UploadChunk } from './media-file';
import type { DeviceState } from './ports';
import type { DeltaType, LayoutStore, RecordLayout } from './record-delta';
import { INITIAL_RUN_STATE, isFinal, next, type RunEvent, type RunState } from './run-state';
import { ServerWaitWatch } from './server-waits';
import { sourceChunks, type SourceChunkOptions } from './source-chunks';
import type { BackupTransport } from './transport';
import type { BackupJob, BackupOptions, BackupType, PauseReason } from './types';
import { deltaTypesOf, fileUploadTotals, UploadPlanner, type UploadWindow } from './upload-planner';

const SUPPORTED_TYPES: readonly BackupType[] = ['chats', 'contacts', 'deviceInfo', 'media'];

/** What every run of a client shares. */
export interface RunnerDeps {
  deviceId: string;
  transport: BackupTransport;
  ledger: UploadLedger;
  /** Per delta type, the layout of this device's last committed backup of it. */
  layouts: Record<DeltaType, LayoutStore>;
  /** How sources become chunks. */
  chunking: SourceChunkOptions;
  hasher: Hasher;
  /** Chunks per `registerChunks` call. */
  registerBatchSize: number;
  window: UploadWindow;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  now: () => number;
  /** The device's state for the constraints. @default none: never paused */
  deviceState?: DeviceState;
  /** Free bytes below which storage counts as low. @default constraints.ts's */
  minFreeStorageBytes?: number;
  /** How often to re-read the device state where it has no subscription. */
  constraintPollMs: number;
  /** The client's own progress callback, told before the run's. */
  onProgress?: (progress: BackupProgress) => void;
}

/**
 * Runs one backup to its commit, from `resuming`'s ledger entry if given (a run the app was killed
 * in, or a scheduled one), with the client's current end-to-end passphrase.
 */
export async function runBackup(deps: RunnerDeps, options: StartBackupOptions, resuming: LedgerEntry | null, endToEnd: EndToEndOptions | undefined): Promise<StartedBackup> {
  const run = new BackupRun(deps, options, resuming, endToEnd);
  const unwatch = deps.transport.watchServerWaits(run.watch.listener);
  try {
    let state: RunState = INITIAL_RUN_STATE;
    while (!isFinal(state)) {
      let event: RunEvent;
      try {
        event = await run.step(state);
      } catch (error) {
        event = { type: 'error', error, aborted: options.signal?.aborted === true };
      }
      state = next(state, event);
    }
    if (state.kind !== 'done') throw state.error;
    return run.result(state.jobId);
  } finally {
    run.close();
    unwatch();
  }
}

/** One run's data between its states. */
class BackupRun {
  readonly watch = new ServerWaitWatch<BackupProgress>();
  private readonly progress: BackupProgress = { jobId: null, phase: 'preparing', pauseReason: null, chunksTotal: 0, chunksDone: 0, itemsTotal: 0, bytesTotal: 0, bytesUploaded: 0, bytesDeduplicated: 0, bytesHashed: 0, currentItem: null };
  private readonly signal: AbortSignal | undefined;
  private key: E2eKey | null = null;
  private jobOptions: BackupOptions | undefined;
  private chunks: UploadChunk[] = [];
  private deltaTypes: DeltaType[] = [];
  private planner: UploadPlanner | null = null;
  private constraints: Constraints | null = null;
  private uploads: ChunkUploads | null = null;
  private job: BackupJob | null = null;

  constructor(
    private readonly deps: RunnerDeps,
    private readonly options: StartBackupOptions,
    private readonly resuming: LedgerEntry | null,
    private readonly endToEnd: EndToEndOptions | undefined,
  ) {
    this.signal = options.signal;
  }

  /** Performs `state`'s effect; resolves with the event it ended with. */
  step(state: RunState): Promise<RunEvent> {
    switch (state.kind) {
      case 'preparing':
        return this.prepare();
      case 'creating':
        return this.create();
      case 'registering':
        return this.register(state.jobId, state.held);
      case 'uploading':
        return this.upload(state.held);
      case 'paused':
        return this.pause(state.jobId, state.reason);
      case 'committing':
        return this.commit(state.jobId);
      default:
        throw new BackupClientError('backup/internal', `backup run: ${state.kind} is final`);
    }
  }

  result(jobId: string): StartedBackup {
    const { progress } = this;
    return { jobId, job: this.job as BackupJob, chunks: this.chunks.length, bytesTotal: progress.bytesTotal, bytesUploaded: progress.bytesUploaded, bytesDeduplicated: progress.bytesDeduplicated };
  }

  close(): void {
    this.uploads?.close();
  }

  private readonly call: ApiCall = (name, data, signal) => this.deps.transport.call(name, data, signal);

  private emit(p: BackupProgress): void {
    this.deps.onProgress?.(p);
    this.options.onProgress?.(p);
  }

  /** Checks the passphrase, then builds (hashes) and encrypts the chunks. */
  private async prepare(): Promise<RunEvent> {
    const { options, progress, signal, endToEnd } = this;
    const unsupported = options.types.filter((t) => !SUPPORTED_TYPES.includes(t));
    if (options.types.length === 0) throw new BackupClientError('backup/invalid-argument', 'types must name at least one type');
    if (unsupported.length > 0) throw new BackupClientError('backup/unimplemented', `this SDK cannot back up ${unsupported.join(', ')} yet`);
    this.emit({ ...progress });
    this.watch.attach(progress, (p) => this.emit(p));

    if (!endToEnd && options.options?.endToEnd) {
      throw new BackupClientError('backup/passphrase-required', 'this backup is end-to-end encrypted: create the client with `endToEnd: { passphrase }`');
    }
    // Checked before any chunk is built or sent: a wrong passphrase changes nothing.
    this.key = endToEnd ? await loadE2eKey(this.call, endToEnd, true, signal) : null;
    this.jobOptions = endToEnd ? { ...options.options, endToEnd: true } : options.options;
    let lastHashed = 0;
    const plainChunks = await sourceChunks(options.types, options.sources, this.jobOptions, this.deps.chunking, (file, bytesHashed) => {
      // A new file starts at 0; each call adds what was read since the last.
      const delta = progress.currentItem?.sourceId === file.sourceId ? bytesHashed - lastHashed : bytesHashed;
      lastHashed = bytesHashed;
      progress.bytesHashed += delta;
      progress.currentItem = { type: 'media', sourceId: file.sourceId, name: file.name, step: 'hashing', bytesDone: bytesHashed, bytes: file.size };
      this.emit({ ...progress, currentItem: { ...progress.currentItem } });
    });
    progress.currentItem = null;
    this.chunks = this.key ? await encryptChunks(plainChunks, this.key) : plainChunks;
    if (signal?.aborted) throw abortedError();
    progress.chunksTotal = this.chunks.length;
    progress.itemsTotal = this.chunks.reduce((n, c) => n + c.items, 0);
    progress.bytesTotal = this.chunks.reduce((n, c) => n + c.size, 0);
    return { type: 'prepared' };
  }

  /** Creates the job (or finds it, by its id), plans against the last layouts, records the ledger entry. */
  private async create(): Promise<RunEvent> {
    const { options, progress, signal, key, jobOptions, resuming, deps } = this;
    // The key is made before the first attempt: every transport retry sends the same one.
    const { job: created } = await this.call(
      'createBackupJob',
      { deviceId: deps.deviceId, types: options.types, ...(jobOptions ? { options: jobOptions } : {}), jobId: options.jobId ?? newIdempotencyKey() },
      signal,
    );
    const jobId = created.id;
    // A job created elsewhere (a schedule, another client) must agree: the server reads plaintext
    // chunks and only stores end-to-end ones.
    const createdEndToEnd = created.options.endToEnd === true;
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
    this.deltaTypes = deltaTypesOf(options.types, key !== null);
    const bases: Partial<Record<DeltaType, RecordLayout | null>> = {};
    const baseJobs: Partial<Record<DeltaType, string>> = {};
    for (const type of this.deltaTypes) {
      const base = await this.deltaBase(type);
      bases[type] = base;
      if (base) baseJobs[type] = base.jobId;
    }
    this.planner = new UploadPlanner({ chunks: this.chunks, bases, hasher: deps.hasher, batchSize: deps.registerBatchSize });
    this.chunks = [...this.planner.wireChunks];
    progress.bytesTotal = this.planner.bytesTotal;
    if (!resuming) {
      await deps.ledger.put({
        jobId,
        types: options.types,
        ...(jobOptions ? { options: jobOptions } : {}),
        startedAt: deps.now(),
        inFlight: {},
        ...(Object.keys(baseJobs).length > 0 ? { deltaBases: baseJobs } : {}),
      });
    }
    progress.phase = 'uploading';
    this.emit({ ...progress });
    this.constraints = constraintsFor(jobOptions, deps.minFreeStorageBytes);
    return { type: 'created', jobId };
  }

  /**
   * The layout of `type` to plan against: a resumed run takes the one its first run took (so it
   * registers the same chunks), a new run the last one saved. The server decides what the plan
   * may rely on: a chunk it has is known by its id, and a recipe whose references it lacks comes
   * back `unresolved` and goes whole, so an outdated layout costs bytes, never records.
   */
  private async deltaBase(type: DeltaType): Promise<RecordLayout | null> {
    const layout = await this.deps.layouts[type].get();
    if (this.resuming) return layout && this.resuming.deltaBases?.[type] === layout.jobId ? layout : null;
    return layout;
  }

  /** The constraint the device breaks now, or null (always null without a device state). */
  private readonly brokenConstraint = async (): Promise<PauseReason | null> => {
    const device = this.deps.deviceState;
    if (!device || !this.constraints) return null;
    return brokenConstraint(await device.getState(), this.constraints);
  };

  /** Registers every chunk, batch by batch, as the planner says; then queues the uploads. */
  private async register(jobId: string, held: boolean): Promise<RunEvent> {
    const { progress, signal } = this;
    const planner = this.planner as UploadPlanner;
    if (!held) {
      const reason = await this.brokenConstraint();
      if (reason) return { type: 'constraint-broken', reason };
    }
    for (let batch = planner.nextRegistration(); batch; batch = planner.nextRegistration()) {
      const answer = await this.call('registerChunks', { jobId, chunks: planner.registrations(batch) }, signal);
      const outcome = planner.applyRegistration(batch, answer);
      progress.chunksDone += outcome.chunksDone;
      progress.bytesDeduplicated += outcome.bytesDeduplicated;
      this.emit({ ...progress });
    }
    this.chunks = [...planner.wireChunks];
    progress.bytesTotal = planner.bytesTotal;

    const queue = planner.takeUploads();
    // Per file: the bytes of its chunks this backup sends, and how many the server acknowledged.
    const fileBytes = new Map<string, { total: number; done: number }>();
    for (const [sourceId, total] of fileUploadTotals(queue)) fileBytes.set(sourceId, { total, done: 0 });
    this.uploads = new ChunkUploads({
      jobId,
      queue,
      window: this.deps.window,
      transport: this.deps.transport,
      ledger: this.deps.ledger,
      previous: this.resuming?.inFlight ?? {},
      signal,
      brokenConstraint: this.brokenConstraint,
      onAcknowledged: (delta, chunk) => {
        progress.bytesUploaded += delta;
        const sums = chunk.file ? fileBytes.get(chunk.file.sourceId) : undefined;
        if (chunk.file && sums) {
          sums.done += delta;
          progress.currentItem = { type: 'media', sourceId: chunk.file.sourceId, name: chunk.file.name, step: 'uploading', bytesDone: sums.done, bytes: sums.total };
        }
        this.emit({ ...progress, currentItem: progress.currentItem && { ...progress.currentItem } });
      },
      onChunkDone: () => {
        progress.chunksDone += 1;
        this.emit({ ...progress });
      },
    });
    return { type: 'registered' };
  }

  private async upload(held: boolean): Promise<RunEvent> {
    const reason = await (this.uploads as ChunkUploads).upload(held);
    return reason ? { type: 'constraint-broken', reason } : { type: 'uploaded' };
  }

  /** Pauses the job while the device breaks a constraint, and resumes it once it holds. */
  private async pause(jobId: string, reason: PauseReason): Promise<RunEvent> {
    const { progress, signal, deps } = this;
    await this.call('pauseBackup', { jobId, reason }, signal);
    progress.phase = 'waiting';
    progress.pauseReason = reason;
    this.emit({ ...progress });
    await waitForConstraints(deps.deviceState as DeviceState, this.constraints as Constraints, { pollMs: deps.constraintPollMs, sleep: deps.sleep, ...(signal ? { signal } : {}) });
    await this.call('resumeBackup', { jobId }, signal);
    progress.phase = 'uploading';
    progress.pauseReason = null;
    this.emit({ ...progress });
    return { type: 'constraints-held' };
  }

  /** Commits the upload, leaves the layouts for the next run to plan against, drops the ledger entry. */
  private async commit(jobId: string): Promise<RunEvent> {
    const { progress, signal, deps } = this;
    const planner = this.planner as UploadPlanner;
    const { job } = await this.call('commitUpload', { jobId, chunkCount: planner.commitChunkCount }, signal);
    this.job = job;
    // The next backup of these types plans against this one.
    for (const type of this.deltaTypes) {
      await deps.layouts[type].put({ version: 1, jobId, chunks: planner.layoutOf(type) });
    }
    await deps.ledger.remove(jobId);
    progress.phase = 'committed';
    progress.currentItem = null;
    this.emit({ ...progress });
    return { type: 'committed' };
  }
}
