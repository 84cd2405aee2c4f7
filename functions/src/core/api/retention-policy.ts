/** `getRetentionPolicy` / `setRetentionPolicy`: the caller's own retention policy. */
import { GetRetentionPolicyInput, SetRetentionPolicyInput, type RetentionPolicyResult } from '@lifeboat/protocol';
import type { EngineDeps } from '../deps';
import { effectiveRetentionPolicy, saveRetentionPolicy } from '../snapshots/retention-settings';
import { parseInput, requireUid, type CallableRequest } from './callable';

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
