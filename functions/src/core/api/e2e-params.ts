/**
 * `getEndToEndParams` / `initEndToEndParams` / `changeEndToEndParams`: the caller's end-to-end
 * encryption parameters (docs/invariants.md,
 * "End-to-end encryption"). The server keeps only what every device of the user needs to derive
 * the same key from the passphrase (the KDF's salt and cost) and a key-check value that tells a
 * wrong passphrase from a right one; it never sees the passphrase or the key. Stored beside the
 * retention policy, at `settings/{uid}/e2e-params` in the blob store, outside the blob namespace
 * garbage collection sweeps.
 */
import { ChangeEndToEndParamsInput, E2eParams, GetEndToEndParamsInput, InitEndToEndParamsInput } from '@lifeboat/protocol';
import type { BlobStore, CallOptions } from '../../ports';
import type { EngineDeps } from '../deps';
import { lifeboatError } from '../errors';
import { encodeStoredJson, readStoredJson, settingsKey } from '../stored-json';
import { parseInput, requireUid, type CallableRequest } from './callable';

function paramsKey(uid: string): string {
  return settingsKey(uid, 'e2e-params');
}

/** The user's stored parameters, or null when no device has set them up yet. */
export function loadE2eParams(blobs: BlobStore, uid: string, options: CallOptions = {}): Promise<E2eParams | null> {
  return readStoredJson(blobs, paramsKey(uid), E2eParams, `stored end-to-end parameters of ${uid} are invalid`, options);
}

export async function getEndToEndParams(request: CallableRequest, deps: EngineDeps): Promise<{ params: E2eParams | null }> {
  const uid = requireUid(request);
  parseInput(GetEndToEndParamsInput, request.data, 'getEndToEndParams');
  return { params: await loadE2eParams(deps.blobs, uid) };
}

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

/**
 * Replaces the parameters after a passphrase change. Only version 2 replaces anything: its key is
 * the one wrapped inside, so the device re-wraps the user's existing key under the new passphrase
 * (the SDK checks the new parameters give back the same key before it calls), and every snapshot
 * stays readable. A version 1 replacement would derive another key and strand them, so it is
 * refused. `previousKeyCheck` must name what is stored, so a device that read parameters another
 * device has since changed starts over rather than undoing that change.
 */
export async function changeEndToEndParams(request: CallableRequest, deps: EngineDeps): Promise<{ params: E2eParams }> {
  const uid = requireUid(request);
  const { previousKeyCheck, params } = parseInput(ChangeEndToEndParamsInput, request.data, 'changeEndToEndParams');
  if (params.version !== 2) throw lifeboatError('invalid-argument', 'changeEndToEndParams: new parameters must be version 2 (a wrapped key)');
  const stored = await loadE2eParams(deps.blobs, uid);
  if (!stored) throw lifeboatError('failed-precondition', 'end-to-end encryption was never set up for this account');
  if (stored.keyCheck !== previousKeyCheck) {
    throw lifeboatError('aborted', 'the end-to-end parameters changed since they were read (another device changed the passphrase?); read them again');
  }
  // Not a compare-and-set in the store: two devices changing the passphrase in the same instant
  // both write, the last one wins. Both wrapped the same key, so no snapshot becomes unreadable;
  // the losing device's new passphrase is refused as wrong at its next use.
  await deps.blobs.put(paramsKey(uid), encodeStoredJson(params));
  return { params };
}
