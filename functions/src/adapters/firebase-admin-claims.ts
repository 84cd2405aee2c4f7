/**
 * The `admin` custom claim on Firebase Auth users: who may open the admin dashboard. Set by
 * `lifeboat admin grant --email E --project P`, read from each request's ID token by the
 * `adminDashboard` function. A claim reaches a user's ID tokens when they are next refreshed
 * (within the hour, or at once by `getIdToken(true)`).
 */
import type { Auth } from 'firebase-admin/auth';
import { lifeboatError } from '../core/errors';
import { toLifeboatError } from './adapter-errors';

/** The claim's name: `admin: true` in the token's custom claims. */
export const ADMIN_CLAIM = 'admin';

/** The slice of firebase-admin's Auth that sets claims (an `Auth` is one). */
export interface ClaimsAdmin {
  getUserByEmail(email: string): Promise<{ uid: string; customClaims?: Record<string, unknown> | undefined }>;
  setCustomUserClaims(uid: string, claims: object | null): Promise<void>;
}

/** The slice of firebase-admin's Auth these use. */
export type ClaimsAuth = ClaimsAdmin & Pick<Auth, 'verifyIdToken'>;

/**
 * Gives (or takes back) the admin claim of the user with this e-mail, keeping their other claims.
 * @returns the user's uid.
 * @throws LifeboatError `not-found` when no user has the e-mail.
 */
export async function setAdminClaim(auth: ClaimsAdmin, email: string, admin: boolean): Promise<{ uid: string; claims: Record<string, unknown> }> {
  let user;
  try {
    user = await auth.getUserByEmail(email);
  } catch (err) {
    if ((err as { code?: unknown } | null)?.code === 'auth/user-not-found') throw lifeboatError('not-found', `no Firebase Auth user has the e-mail ${email}`, { cause: err });
    throw toLifeboatError(err, `look up the user ${email}`);
  }
  const claims: Record<string, unknown> = { ...(user.customClaims ?? {}) };
  if (admin) claims[ADMIN_CLAIM] = true;
  else delete claims[ADMIN_CLAIM];
  try {
    await auth.setCustomUserClaims(user.uid, claims);
  } catch (err) {
    throw toLifeboatError(err, `set the claims of ${email}`);
  }
  return { uid: user.uid, claims };
}

/**
 * The uid of a valid ID token carrying the admin claim; null for any other token (invalid,
 * expired, or a plain user's). Verification checks the signature against Google's keys and the
 * token's project.
 */
export function adminClaimVerifier(auth: Pick<Auth, 'verifyIdToken'>): (token: string) => Promise<string | null> {
  return async (token) => {
    try {
      const decoded = await auth.verifyIdToken(token);
      return decoded[ADMIN_CLAIM] === true ? decoded.uid : null;
    } catch (err) {
      // A token Auth refuses (`auth/id-token-expired`, `auth/argument-error`, ...) is no admin's;
      // anything else (Google's keys out of reach) is the server's trouble, not the caller's.
      const code = (err as { code?: unknown } | null)?.code;
      if (typeof code === 'string' && code.startsWith('auth/')) return null;
      throw toLifeboatError(err, 'verify the ID token');
    }
  };
}
