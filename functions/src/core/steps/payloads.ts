import { z } from 'zod';
import { lifeboatError } from '../errors';
import { Sha256Hex } from '../model';

export const JobTaskPayload = z.object({ jobId: z.string().min(1) });
/** `deferrals`: times the task waited for its user's fair share of processing (fair-share.ts). */
export const ChunkTaskPayload = z.object({ jobId: z.string().min(1), chunkId: Sha256Hex, deferrals: z.number().int().nonnegative().optional() });
export const SourcePageTaskPayload = z.object({ jobId: z.string().min(1), source: z.enum(['chats']), page: z.number().int().nonnegative() });

/** A payload that does not parse will never parse: permanent `invalid-argument`. */
export function parsePayload<T>(schema: z.ZodType<T>, payload: unknown, queue: string): T {
  const parsed = schema.safeParse(payload);
  if (!parsed.success) {
    throw lifeboatError('invalid-argument', `bad ${queue} task payload: ${z.prettifyError(parsed.error)}`, { retryable: false });
  }
  return parsed.data;
}
