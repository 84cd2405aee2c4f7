/**
 * Event triggers: "a job was created" and "a chunk's bytes arrived" (core/events). Both are
 * idempotent and set `retry: true`, so a transient failure (a contended transaction, an enqueue
 * that timed out) is delivered again instead of leaving a job unstarted or a chunk unconfirmed.
 * A permanent problem (an event that is not ours, a document that does not parse) is logged and
 * returns normally, since retrying could not fix it.
 */
import { onDocumentCreated } from 'firebase-functions/v2/firestore';
import { onObjectFinalized } from 'firebase-functions/v2/storage';
import { parseUploadObject, shouldHandleFinalizedObject } from '../adapters/gcs-upload-sessions';
import { fromDocument } from '../adapters/firestore-documents';
import { COLLECTIONS } from '../adapters/firestore-layout';
import { BackupJob, isLifeboatError, onChunkUploaded, onJobCreated } from '../core';
import { getDeps } from './deps';
import { FUNCTION_RESOURCES } from './function-resources';
import { BUCKET } from './params';
import { REQUEST_SCALE_PARAMS } from './scale-params';

/** Jobs created by the API, the schedule dispatcher or an admin tool all start here. */
export const jobCreatedTrigger = () =>
  onDocumentCreated({ document: `${COLLECTIONS.jobs}/{jobId}`, retry: true, ...FUNCTION_RESOURCES.triggers, maxInstances: REQUEST_SCALE_PARAMS.triggers }, async (event) => {
    const deps = getDeps();
    if (!event.data) return;
    let job: BackupJob;
    try {
      job = fromDocument(BackupJob, event.data.data(), `job ${event.params.jobId}`);
    } catch (err) {
      if (!isLifeboatError(err)) throw err;
      deps.logger.error(`job-created event ignored: ${err.message}`, { jobId: event.params.jobId });
      return;
    }
    await onJobCreated(deps, job);
  });

/** Device uploads finishing in the Lifeboat bucket; objects Lifeboat wrote itself are skipped. */
export const chunkObjectFinalizedTrigger = () =>
  onObjectFinalized({ bucket: BUCKET, retry: true, ...FUNCTION_RESOURCES.triggers, maxInstances: REQUEST_SCALE_PARAMS.triggers }, async (event) => {
    const object = event.data;
    if (!shouldHandleFinalizedObject(object)) return;
    const deps = getDeps();
    const upload = parseUploadObject(object);
    if (!upload) {
      deps.logger.warn('finalized upload object without Lifeboat chunk metadata ignored', { name: object.name });
      return;
    }
    await onChunkUploaded(deps, upload);
  });
