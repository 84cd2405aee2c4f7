/**
 * Deploy-time configuration of the Firebase runtime. Every param has a value in the committed
 * `functions/.env` (emulator-safe); production overrides them in `functions/.env.<projectId>`
 * (docs/firebase.md, "Params and secrets"). A param without a value makes the emulator skip every
 * function, so add new ones to `.env` too.
 *
 * Lifeboat lives in its own space inside the app's project (docs/firebase.md, "Its own space"):
 * its own functions codebase, a named Firestore database and two buckets of its own, so nothing
 * here defaults to the app's `(default)` database or default bucket.
 */
import { defineBoolean, defineInt, defineList, defineSecret, defineString } from 'firebase-functions/params';
import { DEFAULT_MEDIA_MODE, MEDIA_MODES, MediaMode } from '../../core/model';

/** Region of every function and of the Cloud Tasks queues. @default 'us-central1' */
export const REGION = defineString('LIFEBOAT_REGION', {
  default: 'us-central1',
  description: 'Cloud Functions region; the task queues live here too.',
});

/**
 * Lifeboat's own Firestore database (named, never the app's `(default)`): jobs, chunk records,
 * snapshots, schedules, device tokens. firebase.json's `firestore` entry deploys its rules and
 * indexes; the Firestore triggers listen on it. Change firebase.json with it. @default 'lifeboat'
 */
export const DATABASE = defineString('LIFEBOAT_DATABASE', {
  default: 'lifeboat',
  description: 'Lifeboat\'s named Firestore database (not the app\'s (default) one).',
});

/**
 * The app's own database, which the server-side chat source reads (read only) when
 * `LIFEBOAT_CHAT_MESSAGES_PATH` names the messages. @default '(default)'
 */
export const CHAT_DATABASE = defineString('LIFEBOAT_CHAT_DATABASE', {
  default: '(default)',
  description: 'The app\'s Firestore database holding its chat messages (read only).',
});

/** Bucket of blobs, manifests and wrapped data keys: everything Lifeboat stores for good. */
export const BLOBS_BUCKET = defineString('LIFEBOAT_BLOBS_BUCKET', {
  description: 'Cloud Storage bucket for Lifeboat\'s blobs, e.g. PROJECT-lifeboat-blobs (not the app\'s default bucket).',
});

/**
 * Bucket devices upload raw chunks to (keys under `uploads/`). The storage trigger watches it
 * alone: Cloud Storage triggers cannot filter by prefix, so a bucket of its own means one
 * invocation per upload and none for the blobs Lifeboat writes.
 */
export const UPLOADS_BUCKET = defineString('LIFEBOAT_UPLOADS_BUCKET', {
  description: 'Cloud Storage bucket for raw device uploads, e.g. PROJECT-lifeboat-uploads (the storage trigger watches it).',
});

/**
 * Browser origins allowed to call the API, upload and download (`https://app.example.com`;
 * scheme, host and port only). In `.env` a JSON list: `["https://app.example.com"]`. Empty: no
 * web client (mobile apps send no Origin and are not concerned). @default []
 */
export const ALLOWED_ORIGINS = defineList('LIFEBOAT_ALLOWED_ORIGINS', {
  default: [],
  description: 'Web origins allowed to use Lifeboat from a browser, e.g. ["https://app.example.com"]; [] for none.',
});

/**
 * Eventarc channel Lifeboat publishes its lifecycle events to (`locations/REGION/channels/firebase`
 * or a full resource name). Empty: no events. @default ''
 */
export const EVENTS_CHANNEL = defineString('LIFEBOAT_EVENTS_CHANNEL', {
  default: '',
  description: 'Eventarc channel for Lifeboat\'s lifecycle events, e.g. locations/us-central1/channels/firebase; empty for none.',
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
 * exact names or `*.suffix`. The storage hosts are always allowed. @default ''
 */
export const MEDIA_HOSTS = defineString('LIFEBOAT_MEDIA_HOSTS', {
  default: '',
  description: 'Comma-separated hosts chat media may be fetched from, besides the Cloud Storage hosts.',
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
 * Per-user quotas (core/user-quotas.ts); 0 turns one off. Exceeding one is `resource-exhausted`
 * naming it (`details.limit`), which the SDK surfaces as `backup/quota-exceeded` with `quota`.
 */
export const QUOTA_STORED_BYTES = defineInt('LIFEBOAT_QUOTA_STORED_BYTES', {
  default: 0,
  description: 'Bytes of storage a user\'s backups may take (each blob once); 0 for no limit.',
});

/** @see QUOTA_STORED_BYTES @default 0 (none) */
export const QUOTA_BACKUPS_PER_DAY = defineInt('LIFEBOAT_QUOTA_BACKUPS_PER_DAY', {
  default: 0,
  description: 'Backups a user may start in any 24 hours (scheduled runs count, never refused); 0 for no limit.',
});

/** @see QUOTA_STORED_BYTES @default 0 (none) */
export const QUOTA_CONCURRENT_JOBS = defineInt('LIFEBOAT_QUOTA_CONCURRENT_JOBS', {
  default: 0,
  description: 'Jobs a user may have queued, running or paused at once; 0 for no limit.',
});

/** @see QUOTA_STORED_BYTES @default 0 (none) */
export const QUOTA_BYTES_PER_JOB = defineInt('LIFEBOAT_QUOTA_BYTES_PER_JOB', {
  default: 0,
  description: 'Raw bytes one backup may register; 0 for no limit.',
});

/**
 * Refuse callable requests without a valid App Check token (`enforceAppCheck` on every callable).
 * Turn it on once the apps send App Check tokens. @default false
 */
export const ENFORCE_APP_CHECK = defineBoolean('LIFEBOAT_ENFORCE_APP_CHECK', {
  default: false,
  description: 'Refuse callable requests without a valid App Check token.',
});

/**
 * Whether users signed in anonymously (Firebase Auth's anonymous provider) may start backups and
 * set schedules; their other calls (reading their jobs, restoring) are always answered. @default true
 */
export const ALLOW_ANONYMOUS = defineBoolean('LIFEBOAT_ALLOW_ANONYMOUS', {
  default: true,
  description: 'Whether anonymous users may start backups and set schedules.',
});

/**
 * Processing tasks one user may have running at once (core/fair-share.ts): their excess tasks
 * wait and run again shortly, so one user's large backup cannot take every instance while others
 * wait. 0 turns it off. @default 50 (5 % of processChunkTask's 1 000 instances)
 */
export const FAIR_SHARE = defineInt('LIFEBOAT_FAIR_SHARE', {
  default: 50,
  description: 'Processing tasks one user may run at once (0: no limit).',
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
