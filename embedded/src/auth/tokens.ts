/**
 * The embedded runtime's own bearer tokens: `lb1.<payload>.<signature>`, the payload base64url
 * JSON `{uid, iat, exp, admin?}`, signed with HMAC-SHA256 under the runtime's secret. They play the part
 * Firebase ID tokens play on Firebase: they name the caller, nothing more.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

const PREFIX = 'lb1';
const Claims = z.object({
  uid: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/),
  iat: z.number().int(),
  exp: z.number().int(),
  /** Opens the dashboard (every user's jobs); on the API it is a user like any other. */
  admin: z.literal(true).optional(),
});
export type TokenClaims = z.infer<typeof Claims>;

const sign = (secret: string, payload: string) => createHmac('sha256', secret).update(`${PREFIX}.${payload}`).digest('base64url');

export interface CreateTokenOptions {
  uid: string;
  /** @default 86_400 (one day) */
  ttlSeconds?: number;
  /** @default Date.now() */
  now?: number;
  /** An admin token, for the dashboard. @default false */
  admin?: boolean;
}

export function createToken(secret: string, options: CreateTokenOptions): string {
  const iat = Math.floor((options.now ?? Date.now()) / 1000);
  const claims = Claims.parse({ uid: options.uid, iat, exp: iat + (options.ttlSeconds ?? 86_400), ...(options.admin ? { admin: true } : {}) });
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${PREFIX}.${payload}.${sign(secret, payload)}`;
}

/** The claims of a valid, unexpired token signed with `secret`; null for anything else. */
export function verifyToken(secret: string, token: string, now: number = Date.now()): TokenClaims | null {
  const [prefix, payload, signature, extra] = token.split('.');
  if (prefix !== PREFIX || !payload || !signature || extra !== undefined) return null;
  const expected = Buffer.from(sign(secret, payload));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
  try {
    const claims = Claims.parse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
    return claims.exp * 1000 > now ? claims : null;
  } catch {
    return null;
  }
}
