/**
 * Restore downloads, embedded: `GET /download/{token}` answers one blob's plaintext (decrypted,
 * decompressed and hash-checked by the content store: the bytes `lifeboat restore` writes from)
 * to whoever holds an unexpired token for it. Tokens play the part v4 signed URLs play on
 * Firebase: `lbd1.<payload>.<signature>`, the payload base64url JSON `{uid, blob, exp}` signed
 * with HMAC-SHA256 under a key derived from the runtime's secret, so a download token is never a
 * bearer token and the other way round.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import { contentStoreOf, hasCode, Sha256Hex, type EngineDeps } from '@lifeboat/functions/core';
import type { Clock, DownloadLinks } from '@lifeboat/functions/ports';
import { errorBody } from './callable-protocol';

const PREFIX = 'lbd1';
const Claims = z.object({ uid: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/), blob: Sha256Hex, exp: z.number().int() });
type Claims = z.infer<typeof Claims>;

function signer(secret: string): (payload: string) => string {
  const key = createHmac('sha256', secret).update('lifeboat download links').digest();
  return (payload) => createHmac('sha256', key).update(`${PREFIX}.${payload}`).digest('base64url');
}

export function createDownloadToken(secret: string, claims: Claims): string {
  const payload = Buffer.from(JSON.stringify(Claims.parse(claims))).toString('base64url');
  return `${PREFIX}.${payload}.${signer(secret)(payload)}`;
}

/** The claims of a valid, unexpired download token; null for anything else. */
export function verifyDownloadToken(secret: string, token: string, now: number): Claims | null {
  const [prefix, payload, signature, extra] = token.split('.');
  if (prefix !== PREFIX || !payload || !signature || extra !== undefined) return null;
  const expected = Buffer.from(signer(secret)(payload));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
  try {
    const claims = Claims.parse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
    return claims.exp > now ? claims : null;
  } catch {
    return null;
  }
}

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
