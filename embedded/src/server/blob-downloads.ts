/**
 * Restore downloads, embedded: `GET /download/{token}` answers one blob's plaintext (decrypted,
 * decompressed and hash-checked by the content store: the bytes `lifeboat restore` writes from)
 * to whoever holds an unexpired token for it. Tokens (`core/download-token.ts`) are the same as
 * the Firebase `downloadBlob` function's: `lbd1.<payload>.<signature>`, the payload base64url JSON
 * `{uid, blob, exp}` signed with HMAC-SHA256 under a key derived from the runtime's secret, so a
 * download token is never a bearer token and the other way round.
 */
import type { ServerResponse } from 'node:http';
import { contentStoreOf, createDownloadToken, hasCode, verifyDownloadToken, type EngineDeps } from '@lifeboat/functions/core';
import type { Clock, DownloadLinks } from '@lifeboat/functions/ports';
import { errorBody } from './callable-protocol';

// The token format is shared with the Firebase `downloadBlob` function (core/download-token.ts).
export { createDownloadToken, verifyDownloadToken };

/** The embedded `DownloadLinks`: URLs to this server's download route. */
export function embeddedDownloadLinks(secret: string, baseUrl: () => string): DownloadLinks {
  return {
    async link({ uid, blob, expiresAt }) {
      return `${baseUrl()}/download/${createDownloadToken(secret, { uid, blob, exp: expiresAt })}`;
    },
  };
}

/** Serves `GET /download/{token}`: 403 for a bad or expired token, 404 for a missing blob. */
export async function serveDownload(deps: EngineDeps, secret: string, clock: Clock, token: string, res: ServerResponse): Promise<void> {
  const reply = (status: number, code: string, message: string) => {
    const body = JSON.stringify(errorBody(code, message));
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), 'access-control-allow-origin': '*' });
    res.end(body);
  };
  const claims = verifyDownloadToken(secret, token, clock.now());
  if (!claims) return reply(403, 'permission-denied', 'the download link is invalid or expired');
  let bytes: Uint8Array;
  try {
    bytes = await contentStoreOf(deps).get(claims.uid, claims.blob);
  } catch (err) {
    if (hasCode(err, 'not-found')) return reply(404, 'not-found', `blob ${claims.blob} is missing`);
    throw err;
  }
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': String(bytes.byteLength),
    'cache-control': 'private, no-store',
    'x-lifeboat-sha256': claims.blob,
    'access-control-allow-origin': '*',
    'access-control-expose-headers': 'x-lifeboat-sha256',
  });
  // Written in pieces so a slow reader applies backpressure instead of buffering a copy.
  const PIECE = 256 * 1024;
  for (let offset = 0; offset < bytes.byteLength; offset += PIECE) {
    if (!res.write(bytes.subarray(offset, offset + PIECE))) await new Promise<void>((r) => res.once('drain', () => r()));
  }
  res.end();
}
