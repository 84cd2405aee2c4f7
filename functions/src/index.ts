/**
 * The Cloud Functions entry point: wiring only. Every export is a function `firebase deploy`
 * creates; docs/firebase.md ("Functions") lists them with their triggers.
 */
// Global options first: setGlobalOptions applies only to functions defined after it runs.
import './firebase/global-options';
import { callable } from './firebase/callables';
import { downloadBlobFunction } from './firebase/download-blob';
import { garbageCollectionSchedule, retentionSchedule, scheduleDispatcher, staleJobSweeper } from './firebase/schedules';
import { taskFunction } from './firebase/task-functions';
import { chunkObjectFinalizedTrigger, jobCreatedTrigger } from './firebase/triggers';
import { accountDeletedTrigger } from './firebase/auth-triggers';

// Callable API (docs/protocol.md): the same names as the embedded server's routes.
export const createBackupJob = callable('createBackupJob');
export const getBackupJob = callable('getBackupJob');
export const listBackupJobs = callable('listBackupJobs');
export const registerChunks = callable('registerChunks');
export const beginChunkUpload = callable('beginChunkUpload');
export const commitUpload = callable('commitUpload');
export const pauseBackup = callable('pauseBackup');
export const resumeBackup = callable('resumeBackup');
export const cancelBackup = callable('cancelBackup');
export const retryBackup = callable('retryBackup');
export const getSnapshot = callable('getSnapshot');
export const listSnapshots = callable('listSnapshots');
export const verifySnapshot = callable('verifySnapshot');
export const getRestorePlan = callable('getRestorePlan');
export const setSchedule = callable('setSchedule');
export const listSchedules = callable('listSchedules');
export const deleteSchedule = callable('deleteSchedule');
export const getRetentionPolicy = callable('getRetentionPolicy');
export const setRetentionPolicy = callable('setRetentionPolicy');
export const registerDevice = callable('registerDevice');
export const getEndToEndParams = callable('getEndToEndParams');
export const initEndToEndParams = callable('initEndToEndParams');
export const changeEndToEndParams = callable('changeEndToEndParams');
export const deleteSnapshot = callable('deleteSnapshot');
export const deleteMyData = callable('deleteMyData');

// Events.
export const onBackupJobCreated = jobCreatedTrigger();
export const onChunkObjectFinalized = chunkObjectFinalizedTrigger();
// Firebase Auth user deleted (a 1st-gen trigger: there is no 2nd-gen one): their data goes too.
export const onAccountDeleted = accountDeletedTrigger();

// Task queues (names in firebase/task-functions.ts TASK_FUNCTION_NAMES).
export const kickoffTask = taskFunction('kickoff');
export const processChunkTask = taskFunction('processChunk');
export const finalizeTask = taskFunction('finalize');
export const sourcePageTask = taskFunction('sourcePage');

// Schedules.
export const dispatchSchedules = scheduleDispatcher();
export const sweepStaleJobs = staleJobSweeper();
export const applyRetention = retentionSchedule();
export const collectGarbage = garbageCollectionSchedule();

// Restore downloads: short-lived signed tokens, plaintext streamed from the content store.
export const downloadBlob = downloadBlobFunction();
