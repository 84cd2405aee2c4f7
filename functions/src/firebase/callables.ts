/**
 * The callable API on Cloud Functions: one `onCall` per handler of `API_HANDLERS`, named as the
 * embedded server names its routes, so the SDK's single transport talks to either runtime
 * (docs/protocol.md). Firebase verifies the ID token; the handlers check ownership and input.
 */
import { onCall } from 'firebase-functions/v2/https';
import { API_HANDLERS, requireUid, type ApiName } from '../core';
import { toHttpsError } from './callable-errors';
import { getDeps } from './deps';
import { FUNCTION_RESOURCES } from './function-resources';
import { REQUEST_SCALE_PARAMS } from './scale-params';

export function callable<N extends ApiName>(name: N) {
  return onCall({ cors: true, ...FUNCTION_RESOURCES.callables, maxInstances: REQUEST_SCALE_PARAMS.callables }, async (request) => {
    const deps = getDeps();
    try {
      // Every call needs a signed-in caller; checked before the handler so that a call without a
      // token is `unauthenticated` whatever its input.
      requireUid({ auth: request.auth ?? null, data: request.data });
      // Only the uid crosses into the engine: claims are Firebase's business, not the handlers'.
      return (await API_HANDLERS[name]({ auth: request.auth ? { uid: request.auth.uid } : null, data: request.data }, deps)) as Awaited<ReturnType<(typeof API_HANDLERS)[N]>>;
    } catch (err) {
      throw toHttpsError(err, name, deps.logger);
    }
  });
}
