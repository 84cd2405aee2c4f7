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
import { DEFAULT_MEDIA_MODE, MEDIA_MODES, MediaMode } from '../core/model';

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

/**
 * Base URL of the `downloadBlob` function, which restore download links point at (the token is
 * appended as the last path segment). Empty: `https://REGION-PROJECT.cloudfunctions.net/downloadBlob`,
 * the function's own URL. Set it when the function sits behind Hosting or a custom domain.
 * @default ''
 */
export const DOWNLOAD_URL = defineString('LIFEBOAT_DOWNLOAD_URL', {
  default: '',
  description: 'Base URL of the downloadBlob function; empty for https://REGION-PROJECT.cloudfunctions.net/downloadBlob.',
});

/**
 * Hosts the server may fetch chat media from (strategies/media-fetch.ts), comma-separated:
 * exact names or `*.suffix`. The project's bucket is always allowed. @default ''
 */
export const MEDIA_HOSTS = defineString('LIFEBOAT_MEDIA_HOSTS', {
  default: '',
  description: 'Comma-separated hosts chat media may be fetched from, besides the project bucket.',
});

/**
 * Where the app keeps its chat messages, for `serverChats` backups:
 * `collection/{conversationId}/subcollection`. Empty: no server-side chat source (a job asking
 * for `serverChats` fails with `failed-precondition`). @default ''
 */
export const CHAT_MESSAGES_PATH = defineString('LIFEBOAT_CHAT_MESSAGES_PATH', {
  default: '',
  description: 'Path pattern of the app\'s chat messages, e.g. conversations/{conversationId}/messages; empty for none.',
});

/** Array field of each message listing the uids of its conversation's members. @default 'participants' */
export const CHAT_PARTICIPANTS_FIELD = defineString('LIFEBOAT_CHAT_PARTICIPANTS_FIELD', {
  default: 'participants',
  description: 'Array field of each chat message holding its participants\' uids.',
});

/**
 * The media mode of backups that name none (docs/media.md, "Modes"): `original` (byte for byte)
 * or `storageSaver` (images re-encoded). A device's `mediaMode` (or `compressMedia`) wins.
 * @default 'original'
 */
export const MEDIA_MODE = defineString('LIFEBOAT_MEDIA_MODE', {
  default: DEFAULT_MEDIA_MODE,
  description: 'Media mode of backups that choose none: original (byte for byte) or storageSaver (images re-encoded).',
  input: { select: { options: MEDIA_MODES.map((value) => ({ value })) } },
});

/**
 * The configured media mode; empty (a unit test, where no CLI injects the default) is the default.
 * @throws Error naming the param when it holds anything but a mode (the function must not start on a typo).
 */
export function mediaModeParam(value: string = MEDIA_MODE.value()): MediaMode {
  if (value.trim() === '') return DEFAULT_MEDIA_MODE;
  const parsed = MediaMode.safeParse(value.trim());
  if (!parsed.success) throw new Error(`LIFEBOAT_MEDIA_MODE must be one of ${MEDIA_MODES.join(', ')}, not ${JSON.stringify(value)}`);
  return parsed.data;
}
