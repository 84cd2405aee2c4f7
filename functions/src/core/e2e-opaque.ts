/**
 * End-to-end encrypted chunks (docs/invariants.md, "End-to-end encryption"): the device encrypted
 * them, so the server can only store them. One manifest item stands for the whole chunk; the
 * device decrypts it on restore and finds the chunk's items inside.
 */
import { lifeboatError } from './errors';
import type { BackupOptions, BackupType, ManifestItem } from './model';

/** The transform an opaque chunk's manifest item carries. */
export const E2E_OPAQUE = 'e2e-opaque' as const;

/**
 * The chunk-index strategy key of opaque chunks: their result depends on no option, and it must
 * differ from every strategy's own key, since an opaque result is not a parsed one.
 */
export const E2E_STRATEGY_KEY = 'e2e-opaque/1' as const;

export function isEndToEnd(options: Pick<BackupOptions, 'endToEnd'>): boolean {
  return options.endToEnd === true;
}

export function isOpaqueItem(item: Pick<ManifestItem, 'transforms'>): boolean {
  return item.transforms.includes(E2E_OPAQUE);
}

/** The strategy key a job's chunks of a type are indexed under. */
export function chunkStrategyKey(strategy: { strategyKey(options: BackupOptions): string }, options: BackupOptions): string {
  return isEndToEnd(options) ? E2E_STRATEGY_KEY : strategy.strategyKey(options);
}

/** The one manifest item of an opaque chunk, stored as is in the blob named by its ciphertext. */
export function opaqueChunkItem(type: BackupType, chunkId: string, size: number, storedSize: number): ManifestItem {
  return { type, sourceId: chunkId, blob: chunkId, blobSize: size, originalSize: size, storedSize, transforms: [E2E_OPAQUE] };
}

/**
 * The server cannot read end-to-end chunks, so it can neither pick what changed from them nor
 * encrypt what it reads itself (docs/invariants.md, "End-to-end encryption").
 * @throws LifeboatError `invalid-argument` naming `call` for endToEnd with incrementalOnly or serverChats.
 */
export function assertEndToEndCompatible(options: Pick<BackupOptions, 'endToEnd' | 'incrementalOnly' | 'serverChats'>, call: string): void {
  if (options.endToEnd && (options.incrementalOnly || options.serverChats)) {
    throw lifeboatError('invalid-argument', `${call}: endToEnd cannot be combined with incrementalOnly or serverChats`);
  }
}
