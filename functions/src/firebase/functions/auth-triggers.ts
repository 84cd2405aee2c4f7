/**
 * Firebase Auth user deletion: the account is gone, so is its data (core/deletion). There is no
 * 2nd-gen trigger for it; the 1st-gen `auth.user().onDelete()` deploys next to the v2 functions
 * (global options do not reach it: it names its own region, memory, timeout and secret). The run
 * reclaims what it can within its timeout; a deletion it leaves `running` (a very large user) is
 * finished by the stale-job sweeper's pickup (`continuePendingDeletions`, schedules.ts).
 */
import * as functionsV1 from 'firebase-functions/v1';
import { deleteUserData, messageOf, type DeletionReport } from '../../core';
import { getRuntime } from '../runtime/firebase-runtime';
import { FUNCTION_RESOURCES } from '../config/function-resources';
import { deployedResources, resourceOptions } from '../config/resource-params';
import { MASTER_KEY, REGION } from '../config/params';

/** The trigger's default timeout (1st gen allows 540 s); its run stops deleting a minute before the deployed one. */
export const ACCOUNT_DELETED_TIMEOUT_SECONDS = FUNCTION_RESOURCES.onAccountDeleted.timeoutSeconds;
const STOP_MARGIN_MS = 60_000;

/** Deletes the data of a Firebase Auth user who was deleted. */
export async function runAccountDeleted(uid: string): Promise<DeletionReport | null> {
  const { deps } = getRuntime();
  try {
    const report = await deleteUserData(deps, uid, { reason: 'account-deleted', stopAt: deps.clock.now() + deployedResources('onAccountDeleted').timeoutSeconds * 1000 - STOP_MARGIN_MS });
    deps.logger.info('data of a deleted account deleted', { uid, status: report.status, ...report.removed });
    return report;
  } catch (err) {
    // Thrown again so the event is retried (failurePolicy); the record, once written, also lets the pickup finish it.
    deps.logger.error('deleting the data of a deleted account failed', { uid, error: messageOf(err) });
    throw err;
  }
}

export const accountDeletedTrigger = () =>
  functionsV1
    .region(REGION)
    .runWith({
      // Its group's params (a 1st-gen function serves one request at a time: no concurrency).
      memory: resourceOptions('onAccountDeleted').memory,
      timeoutSeconds: resourceOptions('onAccountDeleted').timeoutSeconds,
      secrets: [MASTER_KEY],
      failurePolicy: true,
    })
    .auth.user()
    .onDelete(async (user) => {
      await runAccountDeleted(user.uid);
    });
