import type { ContentStore } from '../content-store';
import { decodeManifest, type DecodedManifest } from '../manifest';
import type { Snapshot } from '../model';

/** A snapshot's manifest, read through the content store (hash-checked) and validated line by line. */
export async function loadManifest(content: ContentStore, snapshot: Snapshot, signal?: AbortSignal): Promise<DecodedManifest> {
  return decodeManifest(await content.get(snapshot.uid, snapshot.manifestRef, signal ? { signal } : {}));
}
