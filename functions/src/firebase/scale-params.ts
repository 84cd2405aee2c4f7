/**
 * Each task queue's instances and dispatch rate as params (`functions/.env.<project>` overrides),
 * with the defaults of core/scale-capacity.ts, sized for a million devices a day
 * (docs/firebase.md, "Capacity", has the arithmetic). The names are
 * `LIFEBOAT_<QUEUE>_MAX_INSTANCES` and `LIFEBOAT_<QUEUE>_MAX_DISPATCHES_PER_SECOND`; the
 * request-driven functions' instances are `LIFEBOAT_CALLABLES_MAX_INSTANCES`,
 * `LIFEBOAT_TRIGGERS_MAX_INSTANCES` and `LIFEBOAT_DOWNLOAD_BLOB_MAX_INSTANCES`.
 */
import { defineInt, type IntParam } from 'firebase-functions/params';
import { QUEUE_SCALE, REQUEST_SCALE } from '../core';
import { QUEUE_NAMES, type QueueName } from '../ports';

const envName = (queue: QueueName) => queue.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

export const QUEUE_SCALE_PARAMS: Readonly<Record<QueueName, { maxInstances: IntParam; maxDispatchesPerSecond: IntParam }>> = Object.freeze(
  Object.fromEntries(
    QUEUE_NAMES.map((queue) => [
      queue,
      {
        maxInstances: defineInt(`LIFEBOAT_${envName(queue)}_MAX_INSTANCES`, { default: QUEUE_SCALE[queue].maxInstances, description: `Most instances of the ${queue} task function (one task each).` }),
        maxDispatchesPerSecond: defineInt(`LIFEBOAT_${envName(queue)}_MAX_DISPATCHES_PER_SECOND`, { default: QUEUE_SCALE[queue].maxDispatchesPerSecond, description: `Cloud Tasks' dispatch rate for the ${queue} queue.` }),
      },
    ]),
  ) as Record<QueueName, { maxInstances: IntParam; maxDispatchesPerSecond: IntParam }>,
);

/** Instances of the callables (each), the event triggers (each) and `downloadBlob`. */
export const REQUEST_SCALE_PARAMS: Readonly<Record<keyof typeof REQUEST_SCALE, IntParam>> = Object.freeze({
  callables: defineInt('LIFEBOAT_CALLABLES_MAX_INSTANCES', { default: REQUEST_SCALE.callables.maxInstances, description: 'Most instances of each callable.' }),
  triggers: defineInt('LIFEBOAT_TRIGGERS_MAX_INSTANCES', { default: REQUEST_SCALE.triggers.maxInstances, description: 'Most instances of each event trigger.' }),
  downloadBlob: defineInt('LIFEBOAT_DOWNLOAD_BLOB_MAX_INSTANCES', { default: REQUEST_SCALE.downloadBlob.maxInstances, description: 'Most instances of the restore download function.' }),
});
