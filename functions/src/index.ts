/**
 * The Cloud Functions entry point of the `lifeboat` codebase: wiring only. Every export is a
 * function `firebase deploy` creates; docs/firebase.md ("Functions") lists them with their
 * triggers. The functions run on the production runtime (firebase/runtime/production-backend.ts),
 * built on first use. The emulator codebase (embedded/src/emulator) exports these same functions
 * over another runtime.
 */
// Global options first: setGlobalOptions applies only to functions defined after it runs.
import './firebase/config/global-options';
import { callable } from './firebase/functions/callables';
import { downloadBlobFunction } from './firebase/functions/download-blob';
import { adminDashboardFunction } from './firebase/functions/admin-dashboard';
import { garbageCollectionSchedule, queueSampler, retentionSchedule, scheduleDispatcher, staleJobSweeper } from './firebase/functions/schedules';
import { taskFunction } from './firebase/functions/task-functions';
import { chunkObjectFinalizedTrigger, jobCreatedTrigger } from './firebase/functions/triggers';
import { accountDeletedTrigger } from './firebase/functions/auth-triggers';
import { useRuntime } from './firebase/runtime/firebase-runtime';
import { createProductionRuntime } from './firebase/runtime/production-backend';

useRuntime(() => createProductionRuntime());

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

// Task queues (names in firebase/config/task-queues.ts TASK_FUNCTION_NAMES).
export const kickoffTask = taskFunction('kickoff');
export const processChunkTask = taskFunction('processChunk');
export const finalizeTask = taskFunction('finalize');
export const sourcePageTask = taskFunction('sourcePage');
export const dispatchTask = taskFunction('dispatch');
export const maintenanceTask = taskFunction('maintenance');
export const deathCheckTask = taskFunction('deathCheck');
export const rewrapKeysTask = taskFunction('rewrapKeys');

// Schedules.
export const dispatchSchedules = scheduleDispatcher();
export const sweepStaleJobs = staleJobSweeper();
export const applyRetention = retentionSchedule();
export const collectGarbage = garbageCollectionSchedule();
export const sampleQueues = queueSampler();

// Restore downloads: short-lived signed tokens, plaintext streamed from the content store.
export const downloadBlob = downloadBlobFunction();

// The admin dashboard and its API, for ID tokens carrying the admin claim.
export const adminDashboard = adminDashboardFunction();
