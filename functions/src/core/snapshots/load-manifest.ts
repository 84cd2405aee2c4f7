import type { ContentStore } from '../content-store';
import type { ManifestItem, Snapshot } from '../model';
import { manifestItems } from './snapshot-manifest';

/**
 * Every item of a snapshot, in manifest order, read into memory: for tools and tests over small
 * snapshots. The engine streams them instead (`manifestItems`), so memory never grows with items.
 */
export async function loadManifest(content: ContentStore, snapshot: Pick<Snapshot, 'uid' | 'manifestRef'>, signal?: AbortSignal): Promise<{ items: ManifestItem[] }> {
  const items: ManifestItem[] = [];
  for await (const item of manifestItems(content, snapshot, signal ? { signal } : {})) items.push(item);
  return { items };
}
