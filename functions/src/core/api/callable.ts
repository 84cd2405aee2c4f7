import { z } from 'zod';
import type { EngineDeps } from '../deps';
import { lifeboatError } from '../errors';

/** A callable request as both runtimes deliver it: the verified caller and the raw `data`. */
export interface CallableRequest {
  auth: { uid: string } | null;
  data: unknown;
  /**
   * The browser origin the call came from, already checked against the allowed origins by the
   * runtime (core/web-origins.ts); absent for a caller that is not a browser. Upload sessions
   * carry it, so the browser may PUT to them. @default none
   */
  origin?: string;
}

/** A callable API handler: plain function of the request and the engine's ports. */
export type CallableHandler<R = unknown> = (request: CallableRequest, deps: EngineDeps) => Promise<R>;

export function requireUid(request: CallableRequest): string {
  if (!request.auth?.uid) throw lifeboatError('unauthenticated', 'sign in first: the call carries no valid token');
  return request.auth.uid;
}

/** Parses callable input; failures become `invalid-argument` with a readable message. */
export function parseInput<S extends z.ZodType>(schema: S, data: unknown, call: string): z.output<S> {
  const parsed = schema.safeParse(data ?? {});
  if (parsed.success) return parsed.data;
  throw lifeboatError('invalid-argument', `${call}: ${z.prettifyError(parsed.error)}`, {
    details: { issues: parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) },
  });
}
