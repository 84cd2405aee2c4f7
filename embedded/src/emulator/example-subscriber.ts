/**
 * An example of what the host app deploys to hear from Lifeboat (docs/firebase.md, "Events for
 * the host app"): a function of the app's own codebase subscribed to one lifecycle event type on
 * the channel Lifeboat publishes to. Here it only logs; an app would notify the user, update its
 * own records or page someone on `lifeboat.backup.v1.failed`. The emulator codebase loads it, so
 * `npm run emulators` shows events arriving.
 */
import { onCustomEventPublished } from 'firebase-functions/v2/eventarc';
import * as logger from 'firebase-functions/logger';
import { LIFECYCLE_EVENT_TYPES } from '@lifeboat/engine/ports';
import { EMULATOR_EVENTS_CHANNEL } from './emulator-runtime';

export const onLifeboatBackupCompleted = onCustomEventPublished(
  { eventType: LIFECYCLE_EVENT_TYPES.backupCompleted, channel: EMULATOR_EVENTS_CHANNEL, region: 'us-central1' },
  (event) => {
    const data = event.data as { jobId: string; uid: string; snapshotId: string | null; processedItems: number };
    logger.info(`example subscriber: ${event.type} job=${data.jobId} uid=${data.uid} snapshot=${data.snapshotId} items=${data.processedItems}`);
  },
);
