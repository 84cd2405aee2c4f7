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

export * from './callable';
export * from './schemas';
export * from './restore-plan';
export * from './retention-policy';
export * from './register-device';
export * from './e2e-params';

/** Every callable of the API by its name (docs/protocol.md); both runtimes serve exactly these. */
export const API_HANDLERS = Object.freeze({
  createBackupJob,
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
  setRetentionPolicy,
  getEndToEndParams,
  initEndToEndParams,
  changeEndToEndParams,
  setSchedule,
  listSchedules,
  deleteSchedule,
  registerDevice,
} satisfies Record<string, CallableHandler>);

export type ApiName = keyof typeof API_HANDLERS;
