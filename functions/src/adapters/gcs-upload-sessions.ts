/**
 * Device uploads on Cloud Storage: GCS resumable sessions that a device PUTs to without other
 * credentials (the protocol the embedded server imitates), the pure rules the storage trigger
 * uses to recognise a finished chunk upload, and v4 signed URLs for downloads.
 *
 * A session is created with the object's metadata fixed: the caller's metadata (core passes
 * `{lifeboat: 'chunk-upload', uid, jobId, chunkId}`), the expected SHA-256 as `lifeboat-sha256`
 * and the exact length (`X-Upload-Content-Length`, so GCS refuses a longer or shorter upload).
 * GCS cannot check a SHA-256 when the upload completes; the stored hash makes every full read
 * through the GcsBlobStore check it (`data-loss` for bytes that do not match), and processChunk
 * reads the whole upload.
 */
import type { Bucket } from '@google-cloud/storage';
import { lifeboatError } from '../core/errors';
import { Sha256Hex } from '../core/model';
import {
  assertBlobKey,
  isBlobKeySegment,
  systemClock,
  throwIfAborted,
  type CallOptions,
  type Clock,
  type CreateUploadSessionOptions,
  type UploadSession,
  type UploadSessionRequest,
  type UploadSessions,
} from '../ports';
import { toLifeboatError } from './adapter-errors';
import { checkCallerMetadata, checkObjectPrefix, LIFEBOAT_SHA256, LIFEBOAT_WRITTEN, RESUMABLE_SESSION_TTL_MS } from './gcs-objects';

/** The folder of the bucket raw chunk uploads land in (`core/keys.ts`, `uploadKey`). */
export const UPLOADS_FOLDER = 'uploads/';

/** Longest a v4 signed URL may live: seven days. */
export const MAX_SIGNED_URL_SECONDS = 7 * 24 * 3600;

/** Sessions end a little before GCS forgets them, so a device never holds a dead URL as live. */
const SESSION_MARGIN_MS = 5 * 60 * 1000;

export interface GcsUploadSessionsOptions {
  /** Folder of the bucket the objects live under; the same as the GcsBlobStore's. @default '' */
  prefix?: string;
  /**
   * Browser origin allowed to PUT to sessions created without one of their own (CORS). A
   * create's `origin` option wins. @default none
   */
  origin?: string;
  /** @default the system clock */
  clock?: Clock;
}

/** What the storage trigger gets about a finalized object: the fields of `StorageObjectData` it reads. */
export interface FinalizedObject {
  name: string;
  /** Bytes; CloudEvents carry it as a decimal string. */
  size?: number | string;
  metadata?: Record<string, string> | null;
}

/** A finished chunk upload, as `onChunkUploaded` (core/events/chunk-uploaded.ts) takes it. */
export interface ParsedUpload {
  uid: string;
  jobId: string;
  chunkId: string;
  /** Blob key of the upload (the object name without the prefix). */
  key: string;
  size: number;
}

/** {@link UploadSessions} on GCS resumable uploads; see the module comment. */
export class GcsUploadSessions implements UploadSessions {
  private readonly prefix: string;
  private readonly clock: Clock;

  /**
   * @param bucket the bucket the GcsBlobStore uses.
   * @param options see {@link GcsUploadSessionsOptions}.
   */
  constructor(
    private readonly bucket: Bucket,
    private readonly options: GcsUploadSessionsOptions = {},
  ) {
    this.prefix = checkObjectPrefix(options.prefix);
    this.clock = options.clock ?? systemClock;
  }

  /** Opens a new GCS session each time; `maxOpenPerUser` is not counted (GCS cannot list sessions). */
  async create(request: UploadSessionRequest, options: CreateUploadSessionOptions = {}): Promise<UploadSession> {
    assertBlobKey(request.key);
    if (!Number.isSafeInteger(request.size) || request.size < 0) {
      throw lifeboatError('invalid-argument', `upload size ${request.size} is not a byte count`);
    }
    if (!Sha256Hex.safeParse(request.sha256).success) {
      throw lifeboatError('invalid-argument', 'upload sha256 must be 64 lower-case hex characters');
    }
    const metadata = checkCallerMetadata(request.metadata);
    throwIfAborted(options.signal);
    const now = this.clock.now();
    try {
      const [url] = await this.bucket.file(`${this.prefix}${request.key}`).createResumableUpload({
        metadata: {
          contentType: 'application/octet-stream',
          contentLength: request.size,
          metadata: { ...metadata, [LIFEBOAT_SHA256]: request.sha256 },
        },
        // GCS answers the session's PUTs with CORS headers for this origin alone.
        ...((options.origin ?? this.options.origin) === undefined ? {} : { origin: options.origin ?? this.options.origin }),
      });
      return { url, expiresAt: now + RESUMABLE_SESSION_TTL_MS - SESSION_MARGIN_MS };
    } catch (err) {
      throw toLifeboatError(err, `open an upload session for ${request.key}`);
    }
  }

  /**
   * Nothing to remove: GCS keeps a session's partial bytes itself, outside the bucket, until the
   * session expires, and sessions are not recorded anywhere they could be listed from. The job's
   * finished raw uploads are objects, which cancel, finalize and GC delete.
   */
  async discardJob(_uid: string, _jobId: string, options: CallOptions = {}): Promise<number> {
    throwIfAborted(options.signal);
    return 0;
  }

  /** Nothing to remove, as for {@link discardJob}; the user's raw uploads are objects `deleteUserData` deletes. */
  async discardUser(_uid: string, options: CallOptions = {}): Promise<number> {
    throwIfAborted(options.signal);
    return 0;
  }
}

/**
 * Whether the storage trigger should act on a finalized object: only objects under the uploads
 * folder (after the prefix), and never one Lifeboat wrote itself (`lifeboat-written`), so the
 * engine's own blobs, manifests and keys never become upload events.
 */
export function shouldHandleFinalizedObject(object: FinalizedObject, options: { prefix?: string } = {}): boolean {
  const prefix = checkObjectPrefix(options.prefix);
  if (object.metadata?.[LIFEBOAT_WRITTEN] === 'true') return false;
  return object.name.startsWith(`${prefix}${UPLOADS_FOLDER}`);
}

function parseSize(size: number | string | undefined): number | null {
  const value = typeof size === 'string' && /^\d+$/.test(size) ? Number(size) : size;
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : null;
}

/**
 * The chunk upload a finalized object is: `{prefix}uploads/{uid}/{jobId}/{chunkId}` with a
 * SHA-256 chunk id and a size, whose metadata (when it names them) agrees with the name. Null
 * for anything else, including objects {@link shouldHandleFinalizedObject} refuses.
 */
export function parseUploadObject(object: FinalizedObject, options: { prefix?: string } = {}): ParsedUpload | null {
  if (!shouldHandleFinalizedObject(object, options)) return null;
  const key = object.name.slice(checkObjectPrefix(options.prefix).length);
  const [folder, uid, jobId, chunkId, ...rest] = key.split('/');
  if (`${folder ?? ''}/` !== UPLOADS_FOLDER || rest.length > 0 || uid === undefined || jobId === undefined || chunkId === undefined) {
    return null;
  }
  if (![uid, jobId, chunkId].every(isBlobKeySegment) || !Sha256Hex.safeParse(chunkId).success) return null;
  const metadata = object.metadata ?? {};
  const named = { uid, jobId, chunkId };
  for (const [field, value] of Object.entries(named)) {
    if (metadata[field] !== undefined && metadata[field] !== value) return null;
  }
  const size = parseSize(object.size);
  if (size === null) return null;
  return { uid, jobId, chunkId, key, size };
}

/**
 * A v4 signed URL to read one object for a limited time (restore downloads). In Cloud Functions
 * the signature comes from the IAM signBlob API, so the runtime service account needs the
 * "Service Account Token Creator" role on itself.
 *
 * @param key the blob key (the object name without the store's prefix).
 * @param expiresInSeconds from 1 to 604800 (seven days, the v4 maximum).
 * @throws LifeboatError `invalid-argument` for a bad key or lifetime.
 */
export async function signedDownloadUrl(
  bucket: Bucket,
  key: string,
  expiresInSeconds: number,
  options: { prefix?: string; clock?: Clock } = {},
): Promise<{ url: string; expiresAt: number }> {
  assertBlobKey(key);
  if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > MAX_SIGNED_URL_SECONDS) {
    throw lifeboatError('invalid-argument', `a signed URL lives from 1 to ${MAX_SIGNED_URL_SECONDS} seconds`);
  }
  const expiresAt = (options.clock ?? systemClock).now() + expiresInSeconds * 1000;
  try {
    const [url] = await bucket.file(`${checkObjectPrefix(options.prefix)}${key}`).getSignedUrl({
      version: 'v4',
      action: 'read',
      expires: expiresAt,
    });
    return { url, expiresAt };
  } catch (err) {
    throw toLifeboatError(err, `sign a download URL for ${key}`);
  }
}
