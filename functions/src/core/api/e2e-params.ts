/**
 * `getEndToEndParams` / `initEndToEndParams`: the caller's end-to-end encryption parameters (docs/invariants.md,
 * "End-to-end encryption"). The server keeps only what every device of the user needs to derive
 * the same key from the passphrase (the KDF's salt and cost) and a key-check value that tells a
 * wrong passphrase from a right one; it never sees the passphrase or the key. Stored beside the
 * retention policy, at `settings/{uid}/e2e-params` in the blob store, outside the blob namespace
 * garbage collection sweeps.
 */
import { z } from 'zod';
import type { BlobStore, CallOptions } from '../../ports';
import type { EngineDeps } from '../deps';
import { lifeboatError } from '../errors';
import { encodeStoredJson, readStoredJson, settingsKey } from '../stored-json';
import { parseInput, requireUid, type CallableRequest } from './callable';

const Hex = (bytes: number) => z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), { error: `must be ${bytes} bytes as lower-case hex` });

/** What a device needs to derive the user's end-to-end key, and to check it. */
export const E2eParams = z.strictObject({
  /** Format of the parameters and of the ciphertext (the SDK's `e2e-encryption.ts`). */
  version: z.literal(1),
  kdf: z.strictObject({
    name: z.literal('scrypt'),
    /** CPU/memory cost, a power of two: 2^14 .. 2^20. */
    N: z.number().int().min(2 ** 14).max(2 ** 20).refine((n) => (n & (n - 1)) === 0, { error: 'N must be a power of two' }),
    r: z.number().int().min(1).max(32),
    p: z.number().int().min(1).max(16),
    /** Random per user, chosen by the first device. */
    salt: Hex(16),
  }),
  /** HMAC of a fixed label under the derived key: equal only when the passphrase is right. */
  keyCheck: Hex(32),
});
export type E2eParams = z.infer<typeof E2eParams>;

function paramsKey(uid: string): string {
  return settingsKey(uid, 'e2e-params');
}

/** The user's stored parameters, or null when no device has set them up yet. */
export function loadE2eParams(blobs: BlobStore, uid: string, options: CallOptions = {}): Promise<E2eParams | null> {
  return readStoredJson(blobs, paramsKey(uid), E2eParams, `stored end-to-end parameters of ${uid} are invalid`, options);
}

export const GetEndToEndParamsInput = z.strictObject({});

export async function getEndToEndParams(request: CallableRequest, deps: EngineDeps): Promise<{ params: E2eParams | null }> {
  const uid = requireUid(request);
  parseInput(GetEndToEndParamsInput, request.data, 'getEndToEndParams');
  return { params: await loadE2eParams(deps.blobs, uid) };
}

export const InitEndToEndParamsInput = z.strictObject({ params: E2eParams });

/**
 * Stores the parameters if the user has none, and returns the ones that hold. Create-if-absent,
 * so two devices that set up at once end with one salt: the one that lost the race gets the
 * winner's parameters back and derives its key again from them. Never replaces parameters: a new
 * salt would make every existing end-to-end snapshot unreadable.
 */
export async function initEndToEndParams(request: CallableRequest, deps: EngineDeps): Promise<{ params: E2eParams; created: boolean }> {
  const uid = requireUid(request);
  const { params } = parseInput(InitEndToEndParamsInput, request.data, 'initEndToEndParams');
  const { created } = await deps.blobs.put(paramsKey(uid), encodeStoredJson(params), { ifAbsent: true });
  if (created) return { params, created };
  // "Already exists" is the race's other side (or a repeated call): what is stored holds.
  const stored = await loadE2eParams(deps.blobs, uid);
  if (!stored) throw lifeboatError('unavailable', 'end-to-end parameters vanished while being read; try again');
  return { params: stored, created: false };
}
