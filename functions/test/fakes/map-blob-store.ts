import { lifeboatError } from '../../src/core/errors';
import type { BlobInfo, BlobStore, PutResult } from '../../src/ports';
import { readAll } from '../../src/ports/blob-store';

/** Just enough of a blob store for strategy tests: a map of keys to bytes, no metadata or ranges. */
export class MapBlobStore implements BlobStore {
  readonly objects = new Map<string, Uint8Array>();
  async put(key: string, body: Uint8Array | AsyncIterable<Uint8Array>, options: { ifAbsent?: boolean } = {}): Promise<PutResult> {
    const bytes = body instanceof Uint8Array ? body : await readAll(body);
    const existing = this.objects.get(key);
    if (existing && options.ifAbsent) return { created: false, size: existing.byteLength };
    this.objects.set(key, bytes);
    return { created: true, size: bytes.byteLength };
  }
  async get(key: string): Promise<AsyncIterable<Uint8Array>> {
    const bytes = this.objects.get(key);
    if (!bytes) throw lifeboatError('not-found', `no blob ${key}`);
    return (async function* () { yield bytes; })();
  }
  async stat(key: string): Promise<BlobInfo | null> {
    const bytes = this.objects.get(key);
    return bytes ? { key, size: bytes.byteLength, metadata: {} } : null;
  }
  async exists(key: string) { return this.objects.has(key); }
  async delete(key: string) { this.objects.delete(key); }
  async *list(prefix: string): AsyncIterable<BlobInfo> {
    for (const key of [...this.objects.keys()].sort()) if (key.startsWith(prefix)) yield { key, size: 0, metadata: {} };
  }
}
