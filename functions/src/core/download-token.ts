/**
 * Download tokens: the credential inside a restore download link, on both runtimes (the embedded
 * server's `GET /download/{token}`, the Firebase `downloadBlob` function). A token is
 * `lbd1.<payload>.<signature>`: the payload is base64url JSON `{uid, blob, exp}`, the signature
 * HMAC-SHA256 under a key derived from the runtime's secret with its own label, so a download
 * token is never a bearer token (or anything else signed with that secret) and the other way round.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { Sha256Hex } from './model';

const PREFIX = 'lbd1';

/** What a download token grants: one user's blob until `exp` (epoch ms). */
export const DownloadClaims = z.object({ uid: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/), blob: Sha256Hex, exp: z.number().int() });
export type DownloadClaims = z.infer<typeof DownloadClaims>;

function signer(secret: string): (payload: string) => string {
  const key = createHmac('sha256', secret).update('lifeboat download links').digest();
  return (payload) => createHmac('sha256', key).update(`${PREFIX}.${payload}`).digest('base64url');
}

/** Signs a token for `claims`; URL-path safe (base64url and dots). */
export function createDownloadToken(secret: string, claims: DownloadClaims): string {
  const payload = Buffer.from(JSON.stringify(DownloadClaims.parse(claims))).toString('base64url');
  return `${PREFIX}.${payload}.${signer(secret)(payload)}`;
}

/** The claims of a valid, unexpired download token; null for anything else. */
export function verifyDownloadToken(secret: string, token: string, now: number): DownloadClaims | null {
  const [prefix, payload, signature, extra] = token.split('.');
  if (prefix !== PREFIX || !payload || !signature || extra !== undefined) return null;
  const expected = Buffer.from(signer(secret)(payload));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
  try {
    const claims = DownloadClaims.parse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
    return claims.exp > now ? claims : null;
  } catch {
    return null;
  }
}
