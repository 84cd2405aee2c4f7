/**
 * Deploy-time configuration of the Firebase runtime. Every param has a value in the committed
 * `functions/.env` (emulator-safe); production overrides them in `functions/.env.<projectId>`
 * (docs/firebase.md, "Params and secrets"). A param without a value makes the emulator skip every
 * function, so add new ones to `.env` too.
 *
 * Not params, on purpose: `LIFEBOAT_BACKEND`, `LIFEBOAT_DATA_DIR` and `LIFEBOAT_UPLOAD_BASE_URL`
 * (see `deps.ts`). The emulator gives `.env` values precedence over the process environment, so a
 * param could not be switched per test run, and a file must never be able to point production at
 * the embedded test backend.
 */
import { defineInt, defineSecret, defineString } from 'firebase-functions/params';

/** Region of every function and of the Cloud Tasks queues. @default 'us-central1' */
export const REGION = defineString('LIFEBOAT_REGION', {
  default: 'us-central1',
  description: 'Cloud Functions region; the task queues live here too.',
});

/** Bucket holding uploads, blobs, manifests and wrapped data keys (the storage trigger watches it). */
export const BUCKET = defineString('LIFEBOAT_BUCKET', {
  description: 'Cloud Storage bucket for Lifeboat data, e.g. PROJECT.firebasestorage.app.',
});

/**
 * Master key(s) wrapping the per-user data keys (core/encryption): the current key (64 hex
 * characters or base64 of 32 bytes), optionally followed by comma-separated previous keys while a
 * rotation is under way.
 */
export const MASTER_KEY = defineSecret('LIFEBOAT_MASTER_KEY', {
  description: 'Current master key, then any previous keys being rotated out, comma-separated.',
});

/** A `running` or `queued` job untouched this long is re-kicked by the sweeper. @default 30 */
export const STALE_JOB_MINUTES = defineInt('LIFEBOAT_STALE_JOB_MINUTES', {
  default: 30,
  description: 'Minutes without progress after which the sweeper re-enqueues a job\'s work.',
});

/** A job untouched this long is failed by the sweeper (`deadline-exceeded`). @default 24 */
export const ABANDON_JOB_HOURS = defineInt('LIFEBOAT_ABANDON_JOB_HOURS', {
  default: 24,
  description: 'Hours without progress after which the sweeper fails a job.',
});
