/**
 * Uploads one chunk's bytes to a resumable session (the GCS protocol, docs/protocol.md): PUT
 * pieces with `Content-Range`, read the persisted offset from `308` + `Range`, and after a
 * transient failure ask the server for its offset (`bytes *\/TOTAL`) and go on from there, so no
 * acknowledged byte is sent twice. A failure whose answer says how long to wait (`Retry-After`:
 * a full disk on the embedded server) is waited out within the policy's `maxWaitMs`; giving up
 * carries the server's own error (code, cause, details).
 */
import { afterWaiting, errorFromResponse, waitReason } from './callable';
import { abortedError, BackupClientError } from './errors';
import type { HttpPort, HttpResponse } from './http';
import { DEFAULT_MAX_SERVER_WAIT_MS, isTransientStatus, ServerWaitBudget, serverWaitMs, type ServerWait, type TransportRetryPolicy } from './retry';

/** GCS requires every piece but the last to be a multiple of 256 KiB. */
export const UPLOAD_PIECE_QUANTUM = 256 * 1024;

export interface UploadOptions {
  http: HttpPort;
  /** Bytes per PUT; a multiple of 256 KiB. */
  pieceSize: number;
  retry: TransportRetryPolicy;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  now: () => number;
  signal?: AbortSignal;
  /** Called with the bytes the server has acknowledged so far. */
  onAcknowledged?: (bytes: number) => void;
  /** Continuing a session another process began: ask its offset before sending. @default false */
  resume?: boolean;
  /** Told before and after each wait the server asked for. @default none */
  onWait?: (wait: ServerWait) => void;
  /** The job the upload belongs to, as `onWait` reports it. @default null */
  jobId?: string;
}

/** Bytes persisted according to a 308's `Range: bytes=0-N` (none when absent). */
export function persistedBytes(res: HttpResponse): number {
  const match = /^bytes=0-(\d+)$/.exec(res.headers['range'] ?? '');
  return match?.[1] !== undefined ? Number(match[1]) + 1 : 0;
}

export function assertPieceSize(pieceSize: number): void {
  if (!Number.isInteger(pieceSize) || pieceSize <= 0 || pieceSize % UPLOAD_PIECE_QUANTUM !== 0) {
    throw new BackupClientError('backup/invalid-argument', `uploadPieceSize must be a positive multiple of 256 KiB, got ${pieceSize}`);
  }
}

/** A body read by range when each piece is sent (a file), so only one piece is in memory. */
export interface RangeReader {
  readonly size: number;
  /** `into`: a scratch buffer the piece may be read into; reused only after its request ended. */
  read(offset: number, length: number, into?: Uint8Array): Promise<Uint8Array>;
}

/**
 * Uploads `body` to `url`; resolves when the server has it all. Returns the bytes sent. A
 * RangeReader is read one piece per request (again after a failure), never whole.
 */
export async function uploadResumable(url: string, body: Uint8Array | RangeReader, options: UploadOptions): Promise<number> {
  const total = body instanceof Uint8Array ? body.byteLength : body.size;
  // One piece-sized buffer per upload, refilled for each request once the previous one has ended.
  let scratch: Uint8Array | null = null;
  const slice = async (from: number, to: number) => {
    if (body instanceof Uint8Array) return body.subarray(from, to);
    scratch ??= new Uint8Array(Math.min(options.pieceSize, total));
    return body.read(from, to - from, scratch);
  };
  let offset = 0;
  let sent = 0;
  let retries = 0;
  let needQuery = options.resume ?? false;
  const budget = new ServerWaitBudget(options.retry.maxWaitMs ?? DEFAULT_MAX_SERVER_WAIT_MS);
  /** The last error answer, so giving up names the server's cause (a full disk), not just a stall. */
  let lastError: BackupClientError | null = null;
  const put = (headers: Record<string, string>, body?: Uint8Array) =>
    options.http.request({ method: 'PUT', url, headers, ...(body ? { body } : {}), ...(options.signal ? { signal: options.signal } : {}) });

  for (;;) {
    if (options.signal?.aborted) throw abortedError();
    let res: HttpResponse | null = null;
    const querying = needQuery;
    const end = Math.min(offset + options.pieceSize, total);
    // Read outside the request's try: a file that cannot be read is not a network failure.
    const piece = querying ? null : await slice(offset, end);
    try {
      if (piece === null) {
        // After a failure we do not know what arrived: ask before sending more.
        res = await put({ 'content-range': `bytes */${total}` });
      } else {
        sent += end - offset;
        res = await put({ 'content-range': `bytes ${offset}-${end - 1}/${total}` }, piece);
      }
    } catch {
      if (options.signal?.aborted) throw abortedError();
      res = null;
    }
    if (res && (res.status === 200 || res.status === 201)) {
      options.onAcknowledged?.(total);
      return sent;
    }
    let wait: number | null = null;
    let failure: BackupClientError | null = null;
    if (res?.status === 308) {
      const persisted = persistedBytes(res);
      const progressed = persisted > offset;
      offset = persisted;
      options.onAcknowledged?.(offset);
      needQuery = false;
      // Progress resets the attempt counter; a piece the server did not take counts as a failure.
      if (progressed) retries = 0;
      if (progressed || querying) continue;
    } else if (res && (res.status === 404 || res.status === 410)) {
      throw new BackupClientError('backup/upload-session-expired', 'the upload session is gone; begin a new one', { status: res.status });
    } else if (res && !isTransientStatus(res.status)) {
      throw errorFromResponse(res.status, res.body);
    } else {
      if (res) {
        failure = errorFromResponse(res.status, res.body);
        lastError = failure;
        wait = serverWaitMs(res.headers['retry-after'], failure.details, options.now());
      }
      needQuery = true;
    }
    // A wait the server asked for does not use up the ladder; the budget bounds it.
    const delay = wait === null ? options.retry.delaysMs[retries] : budget.take(wait);
    if (delay === undefined || delay === null) {
      const stalled = `upload stalled at byte ${offset} of ${total} after ${retries} retries`;
      if (!lastError) throw new BackupClientError('backup/unavailable', stalled);
      const cause = afterWaiting(lastError, budget.spent);
      throw new BackupClientError(cause.code, `${stalled}: ${cause.message}`, {
        ...(cause.status === undefined ? {} : { status: cause.status }),
        ...(cause.details ? { details: cause.details } : {}),
        cause: lastError,
      });
    }
    if (wait === null) retries += 1;
    const waitInfo = wait === null || !failure ? null : { call: 'upload', jobId: options.jobId ?? null, reason: waitReason(failure), waitMs: delay, retryAt: options.now() + delay };
    if (waitInfo) options.onWait?.({ ...waitInfo, state: 'waiting' });
    try {
      await options.sleep(delay, options.signal);
    } catch {
      throw abortedError();
    }
    if (waitInfo) options.onWait?.({ ...waitInfo, state: 'retrying' });
  }
}
