/**
 * A run's chunks from its sources, type by type in the order asked: records packed by the chunker
 * (chunker.ts), media files hashed piece by piece from the file source (media-file.ts).
 * Deterministic, so a resumed run builds the chunks the killed one did.
 */
import type { BackupSources } from './backup-run';
import { chatChunks, contactChunks, deviceInfoChunk } from './chunker';
import { BackupClientError } from './errors';
import type { Hasher } from './hasher';
import { DEFAULT_MAX_MEDIA_SIZE_MB, mediaChunks, type MediaChunkFile, type UploadChunk } from './media-file';
import type { FileSource } from './ports';
import type { BackupOptions, BackupType } from './types';

const MIB = 1024 * 1024;

export interface SourceChunkOptions {
  /** Largest chunk of packed records. */
  maxChunkBytes: number;
  /** A media file whose envelope fits this is one chunk (room for encryption already taken off). */
  maxMediaChunkBytes: number;
  /** Parts of larger media files (likewise). */
  mediaPartBytes: number;
  /** Bytes per upload request: a media file is read in reads of at most this (and 1 MiB). */
  pieceSize: number;
  hasher: Hasher;
  /** Opens media items named by `path`. @default none: media items must carry their `bytes` */
  fileSource?: FileSource;
}

/**
 * The chunks of `types` from `sources`; `onHashed` hears of each media file's bytes hashed so far.
 * A type without its source is `backup/invalid-argument`.
 */
export async function sourceChunks(
  types: readonly BackupType[],
  sources: BackupSources,
  jobOptions: BackupOptions | undefined,
  options: SourceChunkOptions,
  onHashed: (file: MediaChunkFile, bytesHashed: number) => void,
): Promise<UploadChunk[]> {
  const { maxChunkBytes, hasher } = options;
  const chunks: UploadChunk[] = [];
  for (const type of types) {
    if (type === 'chats') {
      if (!sources.chats) throw new BackupClientError('backup/invalid-argument', 'types include chats but sources.chats is missing');
      // One push per chunk: spreading an unbounded array into a call overflows the stack.
      for (const chunk of await chatChunks(sources.chats, maxChunkBytes, hasher)) chunks.push(chunk);
    } else if (type === 'contacts') {
      if (!sources.contacts) throw new BackupClientError('backup/invalid-argument', 'types include contacts but sources.contacts is missing');
      for (const chunk of await contactChunks(sources.contacts, maxChunkBytes, hasher)) chunks.push(chunk);
    } else if (type === 'deviceInfo') {
      if (!sources.deviceInfo) throw new BackupClientError('backup/invalid-argument', 'types include deviceInfo but sources.deviceInfo is missing');
      chunks.push(await deviceInfoChunk(sources.deviceInfo, hasher));
    } else if (type === 'media') {
      if (!sources.media) throw new BackupClientError('backup/invalid-argument', 'types include media but sources.media is missing');
      const media = await mediaChunks(sources.media, {
        ...(options.fileSource ? { fileSource: options.fileSource } : {}),
        maxChunkBytes: options.maxMediaChunkBytes,
        partBytes: options.mediaPartBytes,
        readBytes: Math.min(options.pieceSize, MIB),
        maxFileBytes: (jobOptions?.maxMediaSizeMB ?? DEFAULT_MAX_MEDIA_SIZE_MB) * MIB,
        hasher,
        onHashed,
      });
      for (const chunk of media) chunks.push(chunk);
    }
  }
  return chunks;
}
