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
