import type { CallableName, CallableReply } from '@lifeboat/protocol';
import type { CallableHandler } from './callable';
import { createBackupJob } from './create-backup-job';
import { cancelBackup, pauseBackup, resumeBackup, retryBackup } from './job-control';
import { getBackupJob, listBackupJobs } from './job-queries';
import { registerChunks } from './register-chunks';
import { registerDevice } from './register-device';
import { deleteSchedule, listSchedules, setSchedule } from './schedules';
import { getSnapshot, listSnapshots, verifySnapshot } from './snapshot-queries';
import { getRestorePlan } from './restore-plan';
import { getRetentionPolicy, setRetentionPolicy } from './retention-policy';
import { changeEndToEndParams, getEndToEndParams, initEndToEndParams } from './e2e-params';
import { beginChunkUpload, commitUpload } from './upload-calls';
import { deleteMyData, deleteSnapshot, refusedWhileDeleting } from './deletion';

export * from './callable';
export * from './restore-plan';
export * from './retention-policy';
export * from './register-device';
export * from './e2e-params';
export * from './deletion';

/**
 * Every callable of the API by its name (docs/protocol.md); both runtimes serve exactly these.
 * Those that add to a user's data are refused while the user's data is being deleted. Each
 * handler must answer what the protocol says its callable answers (`@lifeboat/protocol`'s
 * `CALLABLES`), the same schema the SDK parses the answer with: a handler that answers otherwise,
 * or a callable the protocol does not name (or one it names and nothing serves), fails to compile.
 */
export const API_HANDLERS = Object.freeze({
  createBackupJob: refusedWhileDeleting(createBackupJob, 'createBackupJob'),
  getBackupJob,
  listBackupJobs,
  registerChunks,
  beginChunkUpload,
  commitUpload,
  pauseBackup,
  resumeBackup,
  cancelBackup,
  retryBackup,
  getSnapshot,
  listSnapshots,
  verifySnapshot,
  getRestorePlan,
  getRetentionPolicy,
  setRetentionPolicy: refusedWhileDeleting(setRetentionPolicy, 'setRetentionPolicy'),
  getEndToEndParams,
  initEndToEndParams: refusedWhileDeleting(initEndToEndParams, 'initEndToEndParams'),
  changeEndToEndParams: refusedWhileDeleting(changeEndToEndParams, 'changeEndToEndParams'),
  setSchedule: refusedWhileDeleting(setSchedule, 'setSchedule'),
  listSchedules,
  deleteSchedule,
  registerDevice: refusedWhileDeleting(registerDevice, 'registerDevice'),
  deleteSnapshot,
  deleteMyData,
} satisfies { [N in CallableName]: CallableHandler<CallableReply<N>> });

export type ApiName = CallableName;
