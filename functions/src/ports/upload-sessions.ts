import type { CallOptions } from './common';

export interface UploadSessionRequest {
  /** Blob key the bytes land under once the upload completes. */
  key: string;
  /** Exact byte length of the upload. */
  size: number;
  /** Expected SHA-256 (hex) of the bytes; the upload is refused at completion if they differ. */
  sha256: string;
  /** Stored with the object and handed to the upload-finished event. */
  metadata: Record<string, string>;
  /** The user the session belongs to (what `maxOpenPerUser` counts). */
  uid: string;
  /** The job the session belongs to (what `discardJob` removes). */
  jobId: string;
}

export interface CreateUploadSessionOptions extends CallOptions {
  /**
   * Most sessions `uid` may hold open at once (docs/invariants.md, "Upload limits"). A store that
   * keeps sessions counts them and refuses a new one past this with `resource-exhausted`
   * (`details.limit: 'openUploadSessions'`); reusing an open session never counts. @default no limit
   */
  maxOpenPerUser?: number;
  /**
   * The browser origin that will PUT to the session (an allowed origin, checked by the runtime):
   * a GCS session answers CORS for it (`createResumableUpload({origin})`); the embedded server
   * checks every request's origin itself. @default none: a client that is not a browser
   */
  origin?: string;
}

export interface UploadSession {
  /** URL speaking the GCS resumable-upload protocol (PUT + Content-Range, 308 while incomplete). */
  url: string;
  /** After this the session is gone and a new one must be begun. */
  expiresAt: number;
}

/**
 * Hands out resumable upload sessions a device can PUT to without other credentials: GCS
 * `createResumableUpload` on Firebase, the embedded server's own endpoint otherwise. When an
 * upload completes, the runtime raises the "chunk uploaded" event (onObjectFinalized on Firebase).
 *
 * Stores whose sessions hold bytes on the server's own disk (embedded) must keep every one of
 * those bytes owned by an open session of a live job: `create` returns the open session of the
 * same key, size and hash instead of opening a second one, enforces `maxOpenPerUser`, and
 * `discardJob` removes a job's sessions and their bytes. GCS holds partial uploads itself, outside
 * the bucket and without a way to list them, until the session expires (a week): there `create`
 * opens a new session each time, cannot count them, and `discardJob` has nothing to remove.
 */
export interface UploadSessions {
  create(request: UploadSessionRequest, options?: CreateUploadSessionOptions): Promise<UploadSession>;
  /**
   * Ends every session of the job that has not completed and deletes its partial bytes (cancel;
   * the embedded sweep does the same for failed and vanished jobs). Idempotent; a later PUT to
   * such a session gets 404. Resolves with the sessions removed.
   */
  discardJob(uid: string, jobId: string, options?: CallOptions): Promise<number>;
  /**
   * Removes every session of the user, open or finished, with its partial bytes (their data is
   * being deleted). Idempotent; resolves with the sessions removed (0 on GCS, which keeps none of
   * ours).
   */
  discardUser(uid: string, options?: CallOptions): Promise<number>;
}
