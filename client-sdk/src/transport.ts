/**
 * The transport: everything the SDK says to the server. Callables go through one `call`
 * (callable.ts: the Firebase callable protocol, retries, the server's waits) and chunk bytes
 * through `putChunk` (resumable-upload.ts: a resumable session, piece by piece). The backup runner
 * is given this interface, not the HTTP port, so a test can hand it a fake server.
 */
import { apiCall, type ApiCall, type CallableOptions } from './callable';
import { isInMemory, type UploadChunk } from './media-file';
import { uploadResumable, type RangeReader } from './resumable-upload';
import type { ServerWait } from './retry';

/** Options of one `putChunk`. */
export interface PutChunkOptions {
  /** The job the chunk belongs to (a server wait names it, so the run's progress shows it). */
  jobId: string;
  /** Continuing a session an earlier run began: ask its offset before sending. */
  resume: boolean;
  /** Called with the chunk's bytes the server has acknowledged so far. */
  onAcknowledged: (bytes: number) => void;
  signal?: AbortSignal;
}

export interface BackupTransport {
  /**
   * Calls the server's callable `name` with `data` (typed by the protocol) and resolves with its
   * answer, parsed by the protocol's schema (`backup/invalid-response` when it is not the
   * protocol's). Transient failures are retried and the server's waits waited out (callable.ts);
   * any other failure rejects with a `BackupClientError` carrying the server's code; an abort
   * with `backup/aborted`.
   */
  call: ApiCall;
  /**
   * Sends `chunk` into the resumable session at `uploadUrl` and resolves once the server has all
   * of it. A chunk read from a file is opened for this session and read one piece per request,
   * and closed again whatever happens. An expired session rejects with
   * `backup/upload-session-expired`.
   */
  putChunk(uploadUrl: string, chunk: UploadChunk, options: PutChunkOptions): Promise<void>;
  /**
   * Tells `listener` of every wait the server asks for, in calls and uploads alike, until the
   * returned function is called.
   */
  watchServerWaits(listener: (wait: ServerWait) => void): () => void;
}

/** The callable options (the transport tells the server's waits to its watchers itself), and the upload piece size. */
export interface HttpTransportOptions extends Omit<CallableOptions, 'onWait'> {
  /** Bytes per upload request; a multiple of 256 KiB (checked by the client). */
  pieceSize: number;
}

/** The transport over the HTTP port: callables and resumable uploads against `baseUrl`. */
export function httpTransport(options: HttpTransportOptions): BackupTransport {
  // Every wait the server asks for reaches each watcher (the runs' progress, server-waits.ts).
  const watchers = new Set<(wait: ServerWait) => void>();
  const onWait = (wait: ServerWait) => {
    for (const watch of watchers) watch(wait);
  };
  const callable: CallableOptions = {
    baseUrl: options.baseUrl,
    getToken: options.getToken,
    http: options.http,
    retry: options.retry,
    sleep: options.sleep,
    now: options.now,
    onWait,
  };
  const upload = (uploadUrl: string, body: Uint8Array | RangeReader, put: PutChunkOptions) =>
    uploadResumable(uploadUrl, body, {
      http: options.http,
      pieceSize: options.pieceSize,
      retry: options.retry,
      sleep: options.sleep,
      now: options.now,
      resume: put.resume,
      jobId: put.jobId,
      onWait,
      ...(put.signal ? { signal: put.signal } : {}),
      onAcknowledged: put.onAcknowledged,
    });
  return {
    call: apiCall(callable),
    async putChunk(uploadUrl, chunk, put) {
      if (isInMemory(chunk)) {
        await upload(uploadUrl, chunk.bytes, put);
        return;
      }
      // A file chunk is opened per session and read one piece per request.
      const reader = await chunk.open();
      try {
        await upload(uploadUrl, { size: chunk.size, read: (offset, length, into) => reader.read(offset, length, into) }, put);
      } finally {
        await reader.close();
      }
    },
    watchServerWaits(listener) {
      watchers.add(listener);
      return () => {
        watchers.delete(listener);
      };
    },
  };
}
