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
 */
export interface UploadSessions {
  create(request: UploadSessionRequest, options?: CallOptions): Promise<UploadSession>;
}
