/**
 * The success answer of a restore download, shared by the Firebase `downloadBlob` function and the
 * embedded server's download route so both send the same headers and stream the same way: the
 * blob's plaintext goes out as the content store decodes it, one segment at a time, so a download
 * holds a few pieces in memory whatever the blob's size.
 */
import type { ContentStream } from './content-store';
import type { CorsOptions } from './web-origins';

/**
 * CORS of the download routes for an allowed web origin (core/web-origins.ts): plain GETs with the
 * token in the path (no preflight), whose hash header the page must read. The runtime sets the
 * headers on the response before it is answered; answers here never name an origin themselves.
 */
export const DOWNLOAD_CORS: CorsOptions = Object.freeze({ methods: ['GET', 'HEAD'], allowHeaders: [], exposeHeaders: ['x-lifeboat-sha256'] });

/** The part of an HTTP response a download writes (a Node `ServerResponse` has it). */
export interface PlaintextResponse {
  writeHead(status: number, headers: Record<string, string>): unknown;
  write(chunk: Uint8Array): boolean;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  removeListener(event: 'drain' | 'close', listener: () => void): unknown;
  end(body?: string): unknown;
  /** Cuts the response off: how a reader learns that a body already under way is not the blob. */
  destroy(error?: Error): unknown;
}

/**
 * Answers a refused download in the callable protocol's error shape (docs/protocol.md): status
 * `INVALID_ARGUMENT` for code `invalid-argument`, the engine's code repeated in `details.code`.
 *
 * @param extra more headers (`allow`, `retry-after`).
 * @default extra {}
 */
export function sendDownloadError(res: PlaintextResponse, status: number, code: string, message: string, extra: Record<string, string> = {}): void {
  const body = JSON.stringify({ error: { status: code.replace(/-/g, '_').toUpperCase(), message, details: { code } } });
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(new TextEncoder().encode(body).byteLength), ...extra });
  res.end(body);
}

/** Resolves on `drain`, or with false when the reader went away (`close`) first. */
function drained(res: PlaintextResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const onDrain = () => {
      res.removeListener('close', onClose);
      resolve(true);
    };
    const onClose = () => {
      res.removeListener('drain', onDrain);
      resolve(false);
    };
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}

/** How a download that started ended: sent whole, its reader gone, or cut off by a read error. */
export type PlaintextOutcome = { sent: 'whole' } | { sent: 'reader-gone' } | { sent: 'cut-off'; error: unknown };

/**
 * Answers 200 with one blob's plaintext, tagged with its SHA-256 (`x-lifeboat-sha256`, which
 * {@link DOWNLOAD_CORS} lets an allowed web origin read) and never cached, with a `content-length` when the stored header records the size
 * (blobs written before it went out chunked). Pieces go out as they are decoded, waiting for
 * `drain` whenever the response buffers.
 *
 * The first piece is read before the status is sent, so a blob that fails at once (a wrong key, a
 * small blob whose hash does not match: its only piece comes after the check) rejects here and
 * the caller can still answer an error. A failure after that (a corrupt segment further on, the
 * hash of a large blob) cannot change the status any more: the response is destroyed, so the
 * reader sees a cut-off body (and a length short of `content-length`), never a complete one, and
 * the outcome carries the error for the caller to log. A reader that goes away stops the read.
 *
 * @param withBody false for a HEAD request: the headers only.
 * @default withBody true
 */
export async function sendPlaintext(res: PlaintextResponse, blob: string, content: ContentStream, withBody = true): Promise<PlaintextOutcome> {
  const pieces = content[Symbol.asyncIterator]();
  let first: IteratorResult<Uint8Array>;
  try {
    first = withBody ? await pieces.next() : { done: true, value: undefined };
  } catch (err) {
    await content.close();
    throw err;
  }
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    ...(content.size === null ? {} : { 'content-length': String(content.size) }),
    'cache-control': 'private, no-store',
    'x-lifeboat-sha256': blob,
  });
  if (!withBody) {
    await content.close();
    res.end();
    return { sent: 'whole' };
  }
  try {
    for (let next = first; !next.done; next = await pieces.next()) {
      if (!res.write(next.value) && !(await drained(res))) {
        await pieces.return?.();
        await content.close();
        return { sent: 'reader-gone' };
      }
    }
  } catch (error) {
    res.destroy(error instanceof Error ? error : new Error(String(error)));
    await content.close();
    return { sent: 'cut-off', error };
  }
  res.end();
  return { sent: 'whole' };
}
