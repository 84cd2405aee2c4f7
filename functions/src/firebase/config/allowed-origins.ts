import { Expression } from 'firebase-functions/params';
import { parseAllowedOrigins } from '../../core';
import { isLifeboatError, lifeboatError } from '../../core/errors';
import { ALLOWED_ORIGINS } from './params';

/**
 * The browser origins `LIFEBOAT_ALLOWED_ORIGINS` allows (core/web-origins.ts), checked. The
 * callables' CORS, `downloadBlob` and the upload sessions' origin all read it.
 *
 * @throws LifeboatError `failed-precondition` when the param is not a JSON list of origins.
 */
export function allowedOrigins(read: () => readonly string[] = () => ALLOWED_ORIGINS.value()): readonly string[] {
  try {
    return parseAllowedOrigins(read());
  } catch (err) {
    const why = isLifeboatError(err) ? err.message : 'it is not a JSON list';
    throw lifeboatError('failed-precondition', `LIFEBOAT_ALLOWED_ORIGINS must be a JSON list of origins such as ["https://app.example.com"]: ${why}`);
  }
}

/**
 * The callables' CORS origins, as firebase-functions resolves them on each request: the checked
 * list (normalized as browsers send origins), or `false` (no CORS headers) when it is empty. The
 * param itself would do, but an empty list makes firebase-functions log a warning on every call,
 * which is every call of a deployment without web clients.
 */
class CallableCorsOrigins extends Expression<string[]> {
  /** Read by firebase-functions' `resolveCorsOrigin` at each request. */
  runtimeValue(): string[] {
    const origins = allowedOrigins();
    return (origins.length > 0 ? [...origins] : false) as unknown as string[];
  }

  override toCEL(): string {
    return ALLOWED_ORIGINS.toCEL();
  }
}

export const CALLABLE_CORS_ORIGINS: Expression<string[]> = new CallableCorsOrigins();
