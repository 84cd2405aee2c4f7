/**
 * Event triggers: "a job was created" and "a chunk's bytes arrived" (core/events). Both are
 * idempotent and set `retry: true`, so a transient failure (a contended transaction, an enqueue
 * that timed out) is delivered again instead of leaving a job unstarted or a chunk unconfirmed.
 * A permanent problem (an event that is not ours, a document that does not parse) is logged and
 * returns normally, since retrying could not fix it.
 */
import { onDocumentCreated } from 'firebase-functions/v2/firestore';
import { onObjectFinalized } from 'firebase-functions/v2/storage';
import { parseUploadObject, shouldHandleFinalizedObject } from '../../adapters/gcs-upload-sessions';
import { fromDocument } from '../../adapters/firestore-documents';
import { COLLECTIONS } from '../../adapters/firestore-layout';
import { BackupJob, isLifeboatError, onChunkUploaded, onJobCreated } from '../../core';
import { DATABASE, UPLOADS_BUCKET } from '../config/params';
import { resourceOptions } from '../config/resource-params';
import { getDeps } from '../runtime/firebase-runtime';
import { REQUEST_SCALE_PARAMS } from '../config/scale-params';

/** Jobs created by the API, the schedule dispatcher or an admin tool all start here, in Lifeboat's own database. */
export const jobCreatedTrigger = () =>
  onDocumentCreated({ document: `${COLLECTIONS.jobs}/{jobId}`, database: DATABASE, retry: true, ...resourceOptions('triggers'), maxInstances: REQUEST_SCALE_PARAMS.triggers }, async (event) => {
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

/**
 * Device uploads finishing in the uploads bucket (its own, so this runs once per upload); objects
 * Lifeboat wrote there itself (server-side source pages) are skipped.
 */
export const chunkObjectFinalizedTrigger = () =>
  onObjectFinalized({ bucket: UPLOADS_BUCKET, retry: true, ...resourceOptions('triggers'), maxInstances: REQUEST_SCALE_PARAMS.triggers }, async (event) => {
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
