/**
 * Small JSON documents kept whole in the blob store: per-user settings under `settings/{uid}/`
 * (retention policy, end-to-end parameters, device registrations) and server-source page states.
 * One reader so every such document is checked by its schema and a corrupt one is `data-loss`.
 */
import type { z } from 'zod';
import type { BlobStore, CallOptions } from '../ports';
import { readAll } from '../ports/blob-store';
import { hasCode, lifeboatError } from './errors';

/** `settings/{uid}/{name}`: beside the wrapped data keys, outside the blob namespace GC sweeps. */
export function settingsKey(uid: string, name: string): string {
  return `settings/${uid}/${name}`;
}

/**
 * The document at `key` checked by `schema`, or null when there is none.
 *
 * @param what Names the document in the `data-loss` error thrown when it does not parse.
 */
export async function readStoredJson<S extends z.ZodType>(
  blobs: BlobStore,
  key: string,
  schema: S,
  what: string,
  options: CallOptions = {},
): Promise<z.output<S> | null> {
  let bytes: Uint8Array;
  try {
    bytes = await readAll(await blobs.get(key, options));
  } catch (err) {
    if (hasCode(err, 'not-found')) return null;
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw lifeboatError('data-loss', what, { cause: err });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw lifeboatError('data-loss', what);
  return parsed.data;
}

/** The bytes `readStoredJson` reads back. */
export function encodeStoredJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}
