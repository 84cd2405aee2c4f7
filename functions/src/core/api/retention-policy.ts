/** `getRetentionPolicy` / `setRetentionPolicy`: the caller's own retention policy. */
import { z } from 'zod';
import type { EngineDeps } from '../deps';
import { RetentionPolicy } from '../snapshots/retention';
import { effectiveRetentionPolicy, saveRetentionPolicy, type EffectiveRetentionPolicy } from '../snapshots/retention-settings';
import { parseInput, requireUid, type CallableRequest } from './callable';

export const SetRetentionPolicyInput = z.strictObject({
  /** The new policy (missing fields take their defaults), or null to go back to the default. */
  policy: RetentionPolicy.nullable(),
});

export type RetentionPolicyResult = EffectiveRetentionPolicy;

export const GetRetentionPolicyInput = z.strictObject({});

export async function getRetentionPolicy(request: CallableRequest, deps: EngineDeps): Promise<RetentionPolicyResult> {
  const uid = requireUid(request);
  parseInput(GetRetentionPolicyInput, request.data, 'getRetentionPolicy');
  return effectiveRetentionPolicy(deps, uid);
}

/** Takes effect at the next completed backup, which applies it (and GC then frees the space). */
export async function setRetentionPolicy(request: CallableRequest, deps: EngineDeps): Promise<RetentionPolicyResult> {
  const uid = requireUid(request);
  const { policy } = parseInput(SetRetentionPolicyInput, request.data, 'setRetentionPolicy');
  await saveRetentionPolicy(deps.blobs, uid, policy);
  return effectiveRetentionPolicy(deps, uid);
}
