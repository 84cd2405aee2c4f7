/** An in-memory BlobStore for engine tests, faithful to the port's contract (see the conformance suite). */
import { lifeboatError } from '../../src/core/errors';
import type { BlobInfo, BlobStore, CallOptions, GetOptions, PutOptions, PutResult } from '../../src/ports';
import { assertBlobKey, assertBlobPrefix, resolveRange } from '../../src/ports/blob-keys';
import { throwIfAborted } from '../../src/ports/cancellation';

const READ_PIECE = 64 * 1024;

interface StoredObject {
  bytes: Uint8Array;
  metadata: Record<string, string>;
  createdAt: number;
}

function copyMetadata(metadata: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata ?? {})) {
    if (typeof value !== 'string') throw lifeboatError('invalid-argument', `metadata ${name} must be a string`);
    out[name] = value;
  }
  return out;
}

export class MemoryBlobStore implements BlobStore {
  private readonly objects = new Map<string, StoredObject>();

  /** @param clock stamps `createdAt` (garbage collection reads it). @default Date.now */
  constructor(private readonly clock: { now(): number } = { now: () => Date.now() }) {}

  async put(key: string, body: Uint8Array | AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<PutResult> {
    assertBlobKey(key);
    throwIfAborted(options.signal);
    const metadata = copyMetadata(options.metadata);
    const parts: Uint8Array[] = [];
    let size = 0;
    if (body instanceof Uint8Array) {
      parts.push(body.slice());
      size = body.byteLength;
    } else {
      for await (const piece of body) {
        throwIfAborted(options.signal);
        if (!(piece instanceof Uint8Array)) throw lifeboatError('invalid-argument', 'body pieces must be Uint8Array');
        parts.push(piece.slice());
        size += piece.byteLength;
      }
    }
    throwIfAborted(options.signal);
    const existing = this.objects.get(key);
    if (options.ifAbsent && existing) return { created: false, size: existing.bytes.byteLength };
    const bytes = new Uint8Array(size);
    let offset = 0;
    for (const part of parts) {
      bytes.set(part, offset);
      offset += part.byteLength;
    }
    this.objects.set(key, { bytes, metadata, createdAt: this.clock.now() });
    return { created: true, size };
  }

  async get(key: string, options: GetOptions = {}): Promise<AsyncIterable<Uint8Array>> {
    assertBlobKey(key);
    throwIfAborted(options.signal);
    const object = this.objects.get(key);
    if (!object) throw lifeboatError('not-found', `no blob at ${key}`);
    const { start, end } = resolveRange(options, object.bytes.byteLength);
    const bytes = object.bytes;
    const signal = options.signal;
    return (async function* read() {
      for (let offset = start; offset < end; offset += READ_PIECE) {
        throwIfAborted(signal);
        yield bytes.slice(offset, Math.min(end, offset + READ_PIECE));
      }
    })();
  }

  async stat(key: string, options: CallOptions = {}): Promise<BlobInfo | null> {
    assertBlobKey(key);
    throwIfAborted(options.signal);
    const object = this.objects.get(key);
    return object ? { key, size: object.bytes.byteLength, metadata: { ...object.metadata }, createdAt: object.createdAt } : null;
  }

  async exists(key: string, options: CallOptions = {}): Promise<boolean> {
    return (await this.stat(key, options)) !== null;
  }

  async delete(key: string, options: CallOptions = {}): Promise<void> {
    assertBlobKey(key);
    throwIfAborted(options.signal);
    this.objects.delete(key);
  }

  async *list(prefix: string, options: CallOptions = {}): AsyncIterable<BlobInfo> {
    assertBlobPrefix(prefix);
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
    for (const key of keys) {
      throwIfAborted(options.signal);
      const object = this.objects.get(key);
      if (object) yield { key, size: object.bytes.byteLength, metadata: { ...object.metadata }, createdAt: object.createdAt };
    }
  }
}
