/**
 * The success answer of a restore download, shared by the Firebase `downloadBlob` function and the
 * embedded server's download route so both send the same headers and stream the same way.
 */

/** Bytes handed to the response per write, so a slow reader applies backpressure. */
const PIECE = 256 * 1024;

/** The part of an HTTP response a download writes (a Node `ServerResponse` has it). */
export interface PlaintextResponse {
  writeHead(status: number, headers: Record<string, string>): unknown;
  write(chunk: Uint8Array): boolean;
  once(event: 'drain', listener: () => void): unknown;
  end(body?: string): unknown;
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
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(new TextEncoder().encode(body).byteLength), 'access-control-allow-origin': '*', ...extra });
  res.end(body);
}

/**
 * Answers 200 with one blob's plaintext, tagged with its SHA-256 (`x-lifeboat-sha256`, readable
 * cross-origin) and never cached. The bytes go out in pieces, waiting for `drain` whenever the
 * response buffers, instead of one write that would queue a second copy of the whole blob.
 *
 * @param withBody false for a HEAD request: the headers only.
 * @default withBody true
 */
export async function sendPlaintext(res: PlaintextResponse, blob: string, bytes: Uint8Array, withBody = true): Promise<void> {
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': String(bytes.byteLength),
    'cache-control': 'private, no-store',
    'x-lifeboat-sha256': blob,
    'access-control-allow-origin': '*',
    'access-control-expose-headers': 'x-lifeboat-sha256',
  });
  if (withBody) {
    for (let offset = 0; offset < bytes.byteLength; offset += PIECE) {
      if (!res.write(bytes.subarray(offset, offset + PIECE))) await new Promise<void>((resolve) => res.once('drain', () => resolve()));
    }
  }
  res.end();
}
