/**
 * What a backup run takes and gives: its sources, its options, its progress as it goes and what it
 * returns once the upload is committed (`startBackup`, `resumePending`, `runPendingScheduled`).
 */
import type { ChatRecord, ContactRecord, DeviceInfoRecord, RecordSource } from './chunker';
import type { MediaItem } from './media-file';
import type { BackupJob, BackupOptions, BackupType, PauseReason } from './types';

/** What the device backs up, per type. */
export interface BackupSources {
  /** Chat messages of every conversation; see ChatRecord. */
  chats?: RecordSource<ChatRecord>;
  contacts?: RecordSource<ContactRecord>;
  deviceInfo?: DeviceInfoRecord | (() => DeviceInfoRecord | Promise<DeviceInfoRecord>);
  /**
   * Photos, videos, audio and other files: `bytes` in memory, or a `path` the client's
   * `fileSource` reads piece by piece (a 2 GB video is never in memory). A file up to 16 MiB is one
   * chunk; a larger one goes in parts of `mediaPartBytes`, stored as is and joined on restore.
   */
  media?: RecordSource<MediaItem>;
}

export interface StartBackupOptions {
  types: BackupType[];
  /** @default the server's defaults (see BackupOptions) */
  options?: BackupOptions;
  sources: BackupSources;
  /**
   * Idempotency key: starting again with the same id continues the same job. @default a random key
   * made before the first `createBackupJob` attempt and sent on every retry, so a retry whose
   * first answer was lost returns the job the first attempt created
   */
  jobId?: string;
  /**
   * Stops between steps and aborts requests in flight; the promise rejects with `backup/aborted`.
   * The job is left as it is, so a later start with the same `jobId` continues it.
   */
  signal?: AbortSignal;
  onProgress?: (progress: BackupProgress) => void;
}

export interface BackupProgress {
  jobId: string | null;
  /**
   * `waiting`: paused until the device meets the constraints again (see `pauseReason`), or
   * waiting as the server asked (see `serverWait`).
   */
  phase: 'preparing' | 'uploading' | 'waiting' | 'committed';
  pauseReason: PauseReason | null;
  /**
   * Present while the SDK waits because the server asked it to (`Retry-After`): why
   * (`gc-in-progress`, `disk-full`, ...), which call, and when it asks again (epoch ms). The
   * backup carries on by itself; it fails only once the wait passes `retry.maxWaitMs`.
   */
  serverWait?: { reason: string; retryAt: number; call: string };
  chunksTotal: number;
  /** Chunks the server has: uploaded now, or already there. */
  chunksDone: number;
  itemsTotal: number;
  bytesTotal: number;
  bytesUploaded: number;
  bytesDeduplicated: number;
  /** Bytes of media files read and hashed so far (while `preparing`, a file at a time). */
  bytesHashed: number;
  /** The media file being hashed or uploaded at the moment, with its own bytes; null otherwise. */
  currentItem: ItemProgress | null;
}

/** Progress of one media file: while the SDK hashes it, and while its chunks go up. */
export interface ItemProgress {
  type: 'media';
  sourceId: string;
  name: string;
  step: 'hashing' | 'uploading';
  /** Bytes of the file hashed, or of its chunks the server acknowledged. */
  bytesDone: number;
  /** Bytes of the file (hashing), or of the chunks of it this backup sends (uploading). */
  bytes: number;
}

export interface StartedBackup {
  jobId: string;
  /** The job as `commitUpload` returned it; watch it for the server's progress. */
  job: BackupJob;
  chunks: number;
  bytesTotal: number;
  /** Bytes of chunks sent by this call. */
  bytesUploaded: number;
  /** Bytes of chunks the server already had. */
  bytesDeduplicated: number;
}
