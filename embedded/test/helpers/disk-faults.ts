/**
 * Fault-injecting wrappers for the embedded runtime's storage: they fail writes with a real-looking
 * file system error (`code` ENOSPC, EACCES, ...) when the test says so, as a full or read-only disk
 * would. Wired with `startEmbeddedRuntime({ instrumentBlobs, instrumentUploadParts })`.
 */
import type { BlobInfo, BlobStore, CallOptions, GetOptions, PutOptions, PutResult } from '@lifeboat/engine/ports';
import type { PartAppender, UploadParts } from '../../src/server/upload-parts';

const DESCRIPTIONS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EACCES: 'permission denied',
  EROFS: 'read-only file system',
};

/** An error as Node's fs raises it, e.g. `ENOSPC: no space left on device, write`. */
export function fsError(code: string, syscall: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${DESCRIPTIONS[code] ?? 'i/o error'}, ${syscall} '/data/secret/path'`), { code, syscall, errno: -1 });
}

/** Which writes fail, and with what code; null lets them through. */
export type FaultRule = ((target: string) => string | null) | null;

/** UploadParts that fail opening and writing parts the rule names (by session id). */
export class FaultyUploadParts implements UploadParts {
  rule: FaultRule = null;
  /** Writes refused so far. */
  refused = 0;

  constructor(private readonly inner: UploadParts) {}

  private check(id: string, syscall: string): void {
    const code = this.rule?.(id) ?? null;
    if (code) {
      this.refused += 1;
      throw fsError(code, syscall);
    }
  }

  size(id: string): Promise<number> {
    return this.inner.size(id);
  }

  async openAppend(id: string): Promise<PartAppender> {
    if (this.rule?.(id) === 'EACCES') this.check(id, 'open');
    const out = await this.inner.openAppend(id);
    return {
      write: async (bytes) => {
        // Half the piece lands before the disk refuses the rest, as a short write would.
        if (this.rule?.(id)) {
          await out.write(bytes.subarray(0, bytes.byteLength >> 1));
          this.check(id, 'write');
        }
        await out.write(bytes);
      },
      sync: () => out.sync(),
      close: () => out.close(),
    };
  }

  truncate(id: string, size: number): Promise<void> {
    return this.inner.truncate(id, size);
  }

  read(id: string): AsyncIterable<Uint8Array> {
    return this.inner.read(id);
  }

  remove(id: string): Promise<void> {
    return this.inner.remove(id);
  }

  list(): Promise<string[]> {
    return this.inner.list();
  }
}

/** A BlobStore whose puts of keys the rule names fail after consuming part of the body. */
export class FaultyBlobStore implements BlobStore {
  rule: FaultRule = null;
  refused = 0;

  constructor(private readonly inner: BlobStore) {}

  async put(key: string, body: Uint8Array | AsyncIterable<Uint8Array>, options?: PutOptions): Promise<PutResult> {
    const code = this.rule?.(key) ?? null;
    if (code) {
      this.refused += 1;
      if (!(body instanceof Uint8Array)) {
        for await (const _ of body) break;
      }
      throw fsError(code, 'write');
    }
    return this.inner.put(key, body, options);
  }

  get(key: string, options?: GetOptions): Promise<AsyncIterable<Uint8Array>> {
    return this.inner.get(key, options);
  }

  stat(key: string, options?: CallOptions): Promise<BlobInfo | null> {
    return this.inner.stat(key, options);
  }

  exists(key: string, options?: CallOptions): Promise<boolean> {
    return this.inner.exists(key, options);
  }

  delete(key: string, options?: CallOptions): Promise<void> {
    return this.inner.delete(key, options);
  }

  list(prefix: string, options?: CallOptions): AsyncIterable<BlobInfo> {
    return this.inner.list(prefix, options);
  }
}
