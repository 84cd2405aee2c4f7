/**
 * The blobs a restore fetched last: the one in use, and up to 3 before it within 16 MiB, so items
 * that go back to a blob (a conversation in time order moves between its old pack and a new one)
 * do not download it again. Memory stays bounded by the largest blob plus 16 MiB. The server's
 * `restoreItems` keeps its blobs the same way (functions/src/core/snapshots/restore-items.ts).
 */
export class RecentBlobs<T extends { bytes: Uint8Array | null }> {
  private readonly blobs = new Map<string, T>();

  /** @param keep blobs kept besides the one in use. @param keepBytes their bytes in all. @default keep 3, keepBytes 16 MiB */
  constructor(private readonly keep = 3, private readonly keepBytes = 16 * 1024 * 1024) {}

  get(hash: string): T | undefined {
    const blob = this.blobs.get(hash);
    if (blob) {
      // Map order is use order.
      this.blobs.delete(hash);
      this.blobs.set(hash, blob);
    }
    return blob;
  }

  add(hash: string, blob: T): void {
    this.blobs.set(hash, blob);
    const kept = () => [...this.blobs.values()].slice(0, -1);
    while (kept().length > this.keep || kept().reduce((n, b) => n + (b.bytes?.byteLength ?? 0), 0) > this.keepBytes) {
      this.blobs.delete(this.blobs.keys().next().value as string);
    }
  }
}
