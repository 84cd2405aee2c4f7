/**
 * The callable API on Cloud Functions: one `onCall` per handler of `API_HANDLERS`, named as the
 * embedded server names its routes, so the SDK's single transport talks to either runtime
 * (docs/protocol.md). Firebase verifies the ID token; the handlers check ownership and input.
 * Browsers are answered CORS for `LIFEBOAT_ALLOWED_ORIGINS` only (core/web-origins.ts).
 */
import { onCall } from 'firebase-functions/v2/https';
import { API_HANDLERS, judgeOrigin, refusedOriginMessage, requireUid, type ApiName } from '../../core';
import { lifeboatError } from '../../core/errors';
import { allowedOrigins, CALLABLE_CORS_ORIGINS } from '../config/allowed-origins';
import { ALLOW_ANONYMOUS, ENFORCE_APP_CHECK } from '../config/params';
import { resourceOptions } from '../config/resource-params';
import { REQUEST_SCALE_PARAMS } from '../config/scale-params';
import { getDeps } from '../runtime/firebase-runtime';
import { toHttpsError } from './callable-errors';

/**
 * The caller's allowed browser origin, or none for a caller that is not a browser. The CORS
 * middleware already keeps a refused origin's browser from reading the answer; refusing here too
 * means such a call changes nothing either.
 *
 * @throws LifeboatError `permission-denied` for an origin that is not allowed; `failed-precondition`
 *   when `LIFEBOAT_ALLOWED_ORIGINS` is not a list of origins.
 */
export function callerOrigin(header: string | string[] | undefined, allowed: () => readonly string[]): string | undefined {
  // Most callers are apps, which send no Origin: the list is read only for a browser.
  if (header === undefined || header === '') return undefined;
  const verdict = judgeOrigin(header, allowed());
  if (verdict.kind === 'refused') throw lifeboatError('permission-denied', refusedOriginMessage(verdict.origin));
  return verdict.kind === 'allowed' ? verdict.origin : undefined;
}

/** The calls that start backups: what `LIFEBOAT_ALLOW_ANONYMOUS=false` refuses anonymous users. */
export const BACKUP_STARTING_CALLS: ReadonlySet<ApiName> = new Set<ApiName>(['createBackupJob', 'setSchedule']);

/**
 * `permission-denied` for an anonymous caller (Firebase Auth's `anonymous` provider) of a call
 * that starts backups, when the deployment does not let them back up.
 */
export function assertMayBackUp(name: ApiName, token: { firebase?: { sign_in_provider?: string } } | undefined, allowAnonymous: boolean): void {
  if (allowAnonymous || !BACKUP_STARTING_CALLS.has(name) || token?.firebase?.sign_in_provider !== 'anonymous') return;
  throw lifeboatError('permission-denied', `${name}: anonymous users may not back up here; sign in with an account first`, { details: { reason: 'anonymous' } });
}

export function callable<N extends ApiName>(name: N) {
  // enforceAppCheck: requests without a valid App Check token are refused before the handler.
  return onCall({ cors: CALLABLE_CORS_ORIGINS, enforceAppCheck: ENFORCE_APP_CHECK, ...resourceOptions('callables'), maxInstances: REQUEST_SCALE_PARAMS.callables }, async (request) => {
    const deps = getDeps();
    try {
      const origin = callerOrigin(request.rawRequest?.headers?.origin, allowedOrigins);
      // Every call needs a signed-in caller; checked before the handler so that a call without a
      // token is `unauthenticated` whatever its input.
      requireUid({ auth: request.auth ?? null, data: request.data });
      assertMayBackUp(name, request.auth?.token, ALLOW_ANONYMOUS.value());
      // Only the uid crosses into the engine: claims are Firebase's business, not the handlers'.
      return (await API_HANDLERS[name]({ auth: request.auth ? { uid: request.auth.uid } : null, data: request.data, ...(origin ? { origin } : {}) }, deps)) as Awaited<ReturnType<(typeof API_HANDLERS)[N]>>;
    } catch (err) {
      throw toHttpsError(err, name, deps.logger);
    }
  });
}
