import { HttpsError } from 'firebase-functions/v2/https';
import { z } from 'zod';
import { isLifeboatError } from '../../core';
import type { Logger } from '../../ports';

/**
 * An engine error as the callable protocol carries it: the LifeboatError code becomes the
 * HttpsError status, and `details.code` repeats it, as the embedded server answers
 * (embedded/src/server/callable-protocol.ts), so the SDK reads one shape from both runtimes.
 * Anything unclassified is logged and answered `internal` without its message, which may hold
 * internals.
 */
export function toHttpsError(err: unknown, call: string, logger: Logger): HttpsError {
  if (err instanceof HttpsError) return err;
  if (isLifeboatError(err)) return new HttpsError(err.code, err.message, { ...(err.details ?? {}), code: err.code });
  if (err instanceof z.ZodError) {
    // Handlers parse their input with parseInput (already a LifeboatError); this catches a schema
    // that escaped it, still as the caller's fault with a readable message.
    const issues = err.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
    return new HttpsError('invalid-argument', `${call}: ${z.prettifyError(err)}`, { issues, code: 'invalid-argument' });
  }
  logger.error(`callable ${call} failed`, { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  return new HttpsError('internal', 'internal error', { code: 'internal' });
}
