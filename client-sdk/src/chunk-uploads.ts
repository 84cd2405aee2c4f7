/**
 * The uploads of one run: the chunks the server lacks, up to `parallel` at a time within one
 * piece of bytes in flight (upload-planner.ts, `windowAdmits`), each in a resumable session the
 * ledger records before its first byte. The device's constraints are checked before each chunk
 * starts; a broken one stops the uploads with the chunks in flight settled, so the runner can pause
 * the job, and a later `upload` carries on with the next chunk.
 */
import { abortedError, BackupClientError } from './errors';
import type { InFlightUpload, UploadLedger } from './ledger';
import type { UploadChunk } from './media-file';
import type { BackupTransport } from './transport';
import type { PauseReason } from './types';
import { MAX_SESSIONS_PER_CHUNK, windowAdmits, windowCost, type UploadWindow } from './upload-planner';

export interface ChunkUploadsOptions {
  jobId: string;
  /** The chunks to upload, in order. */
  queue: readonly UploadChunk[];
  window: UploadWindow;
  transport: BackupTransport;
  ledger: UploadLedger;
  /** Sessions an interrupted run left, by chunk id: continued from the server's offset. */
  previous: Record<string, InFlightUpload>;
  /** The caller's abort: stops every upload in flight. */
  signal: AbortSignal | undefined;
  /** The constraint the device breaks now, or null. */
  brokenConstraint: () => Promise<PauseReason | null>;
  /** Bytes of `chunk` the server acknowledged since the last call. */
  onAcknowledged: (delta: number, chunk: UploadChunk) => void;
  onChunkDone: () => void;
}

const expired = (err: unknown) => err instanceof BackupClientError && err.code === 'backup/upload-session-expired';

export class ChunkUploads {
  private next = 0;
  private readonly running = new Set<Promise<void>>();
  private inFlightBytes = 0;
  private failure: { error: unknown } | null = null;
  /** Aborts the uploads in flight: on the caller's abort and on the first failure. */
  private readonly stop = new AbortController();
  private readonly onAbort = () => this.stop.abort();

  constructor(private readonly options: ChunkUploadsOptions) {
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
    if (options.signal?.aborted) this.stop.abort();
  }

  /**
   * Uploads the chunks not yet started. Resolves with null once all are up, or with the broken
   * constraint once those in flight have settled (call again after the pause; `held`: the device
   * was just seen meeting the constraints, so the first chunk starts without a check). The first
   * failure stops the others and is rethrown once they have settled.
   */
  async upload(held: boolean): Promise<PauseReason | null> {
    const { queue, window, signal } = this.options;
    try {
      while (this.next < queue.length) {
        const chunk = queue[this.next] as UploadChunk;
        const cost = windowCost(chunk, window);
        while (!windowAdmits(window, this.running.size, this.inFlightBytes, cost)) await Promise.race(this.running);
        if (this.failure) break;
        if (this.stop.signal.aborted) throw abortedError();
        if (!held) {
          const reason = await this.options.brokenConstraint();
          if (reason) {
            // Chunks already in flight finish (or fail) first: the job is paused with nothing moving.
            await this.settle();
            return reason;
          }
        }
        held = false;
        if (this.failure) break;
        this.next += 1;
        this.start(chunk, cost);
      }
      await this.settle();
    } catch (error) {
      this.failure ??= { error };
      this.stop.abort();
      await this.settle();
    }
    if (signal?.aborted) throw abortedError();
    if (this.failure) throw this.failure.error;
    return null;
  }

  /** Stops listening to the caller's signal; the run calls it however it ends. */
  close(): void {
    this.options.signal?.removeEventListener('abort', this.onAbort);
  }

  private async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.race(this.running);
  }

  private start(chunk: UploadChunk, cost: number): void {
    const { jobId, ledger } = this.options;
    this.inFlightBytes += cost;
    let acknowledged = 0;
    // Settles itself out of `running`; declared first so the closure can name it.
    let task: Promise<void> = Promise.resolve();
    task = (async () => {
      try {
        await this.uploadChunk(chunk, (n) => {
          this.options.onAcknowledged(n - acknowledged, chunk);
          acknowledged = n;
        });
        await ledger.setInFlight(jobId, chunk.id, null);
        this.options.onChunkDone();
      } catch (error) {
        this.failure ??= { error };
        this.stop.abort();
      } finally {
        this.inFlightBytes -= cost;
        this.running.delete(task);
      }
    })();
    this.running.add(task);
  }

  /** One chunk: in the session an interrupted run left, else in new ones (a session can expire). */
  private async uploadChunk(chunk: UploadChunk, onBytes: (acknowledged: number) => void): Promise<void> {
    const { jobId, ledger, transport } = this.options;
    const signal = this.stop.signal;
    const send = (uploadUrl: string, resume: boolean) =>
      transport.putChunk(uploadUrl, chunk, {
        jobId,
        resume,
        signal,
        onAcknowledged: (n) => {
          onBytes(n);
          // Progress only (the session knows its offset), so a failed write is not the upload's
          // failure; the last acknowledgement is followed at once by dropping the session.
          if (n < chunk.size) ledger.acknowledge(jobId, chunk.id, n).catch(() => undefined);
        },
      });
    const previous = this.options.previous[chunk.id];
    if (previous) {
      try {
        await send(previous.uploadUrl, true);
        return;
      } catch (err) {
        if (!expired(err)) throw err;
      }
    }
    // A session can expire (a week on GCS) while an app sleeps: begin a new one, a few times.
    for (let sessions = 1; ; sessions++) {
      const begun = await transport.call('beginChunkUpload', { jobId, chunkId: chunk.id }, signal);
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
        if (!expired(err) || sessions >= MAX_SESSIONS_PER_CHUNK) throw err;
      }
    }
  }
}
