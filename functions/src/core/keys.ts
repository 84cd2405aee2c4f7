/**
 * Blob key layout. Content blobs live in a per-user namespace keyed by the SHA-256 of their
 * plaintext, so a blob is written once per user whatever the number of snapshots that use it.
 */
import type { BackupType } from './model';

const SAFE_SEGMENT = /^[A-Za-z0-9._-]+$/;

function segment(value: string, what: string): string {
  if (!SAFE_SEGMENT.test(value) || value === '.' || value === '..') {
    throw new RangeError(`${what} is not a safe key segment: ${JSON.stringify(value)}`);
  }
  return value;
}

/** `users/{uid}/blobs/{aa}/{hash}`: the two-character fan-out keeps folders small. */
export function blobKey(uid: string, hash: string): string {
  return `users/${segment(uid, 'uid')}/blobs/${segment(hash.slice(0, 2), 'hash')}/${segment(hash, 'hash')}`;
}

/** Prefix of all raw uploads of one job; finalize deletes it. */
export function uploadPrefix(uid: string, jobId: string): string {
  return `uploads/${segment(uid, 'uid')}/${segment(jobId, 'jobId')}/`;
}

/** Where a device's raw chunk bytes land before processing. */
export function uploadKey(uid: string, jobId: string, chunkId: string): string {
  return `${uploadPrefix(uid, jobId)}${segment(chunkId, 'chunkId')}`;
}

/** Key of a chunk in the user's chunk index: same bytes, same type, same output-relevant options. */
export function chunkIndexKey(type: BackupType, strategyKey: string, chunkId: string): string {
  return `${type}:${strategyKey}:${chunkId}`;
}
