/**
 * The SDK's public API (`@lifeboat/client-sdk`): the client, its options and results, errors and
 * their codes, the platform ports and their platform-neutral implementations, the records and
 * media items a source produces, and the restore, verify and end-to-end types. Everything else is
 * internal and may change in any release; `client-sdk/test/public-exports.test.ts` lists these.
 */
export { createBackupClient } from './client';
export type { BackupClient, BackupClientOptions, BackupProgress, BackupSources, ItemProgress, ResumeOptions, ScheduleInput, StartBackupOptions, StartedBackup, WatchOptions } from './client';
export { memoryKeyValueStore } from './ledger';
export { BackupClientError, BACKUP_ERROR_CODES, type BackupErrorCode } from './errors';
export { fetchHttp, type HttpPort, type HttpRequest, type HttpResponse } from './http';
export type { DeviceState, DeviceStateSnapshot, FileSource, KeyValueStore, OpenedFile } from './ports';
export { chatChunks, contactChunks, deviceInfoChunk, type ChatRecord, type Chunk, type ContactRecord, type DeviceInfoRecord, type RecordSource } from './chunker';
export { MAX_MEDIA_CHUNK_BYTES, type MediaChunkFile, type MediaFile, type MediaFileRef, type MediaItem } from './media-file';
export { blobFileSource, type BlobLike } from './blob-file-source';
export { DEFAULT_TRANSPORT_RETRY, type TransportRetryPolicy } from './retry';
export { nobleHasher, type Hasher, type Sha256Hash } from './hasher';
export * from './types';
export type { VerifySnapshotOptions } from './verify';
export { DEFAULT_MIN_FREE_STORAGE_BYTES } from './constraints';
export { restoreFileName, RestoreNames } from './restore-names';
export type { RestoreItem, RestoreOptions, RestoreProgress, RestoreResult, RestoreSink, RestoreWriter } from './restore';
export type { EndToEndOptions } from './e2e-encryption';
