/**
 * Which media mode a backup runs in (docs/media.md, "Modes"): the one it names (`mediaMode`, or
 * its older alias `compressMedia`), else the deployment's default. Resolved once, when the job or
 * schedule is created, and recorded on it, so a job's output never depends on a later change of
 * the default.
 */
import { lifeboatError } from './errors';
import { DEFAULT_MEDIA_MODE, type BackupOptions, type MediaMode } from './model';

/**
 * The mode of a job's options. Every job records its mode; one created before modes existed
 * records only `compressMedia` (which then defaulted to true) and means the same.
 */
export function mediaModeOf(options: Pick<BackupOptions, 'mediaMode' | 'compressMedia'>): MediaMode {
  return options.mediaMode ?? (options.compressMedia === false ? 'original' : 'storageSaver');
}

/**
 * The options with their media mode settled: `mediaMode` as given, else from `compressMedia`
 * (`false` is `original`, `true` is `storageSaver`), else `serverDefault`; `compressMedia` is
 * then set to agree, so older readers of the job see the same choice.
 *
 * @throws LifeboatError `invalid-argument` naming `call` when `mediaMode` and `compressMedia` disagree.
 */
export function withMediaMode(options: BackupOptions, serverDefault: MediaMode | undefined, call: string): BackupOptions {
  const { mediaMode, compressMedia } = options;
  if (mediaMode !== undefined && compressMedia !== undefined && (mediaMode === 'storageSaver') !== compressMedia) {
    throw lifeboatError('invalid-argument', `${call}: compressMedia ${compressMedia} contradicts mediaMode ${mediaMode} (compressMedia is its older name: false is original, true is storageSaver)`);
  }
  const mode = mediaMode ?? (compressMedia === undefined ? (serverDefault ?? DEFAULT_MEDIA_MODE) : compressMedia ? 'storageSaver' : 'original');
  return { ...options, mediaMode: mode, compressMedia: mode === 'storageSaver' };
}
