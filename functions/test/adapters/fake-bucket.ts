/**
 * A hand-written fake of the slice of `@google-cloud/storage`'s Bucket and File that the GCS
 * adapters call, with the behaviour they rely on: uploads that become visible only when complete
 * (a destroyed write stream stores nothing), generations, `ifGenerationMatch` preconditions
 * answered with 412, 404 for missing objects, byte ranges with an inclusive end, lexicographic
 * paged listings. It is not Cloud Storage: it checks the adapters' logic, not the service.
 */
import { Readable, Writable } from 'node:stream';
import type { Bucket, FileMetadata } from '@google-cloud/storage';

interface StoredObject {
  bytes: Buffer;
  generation: number;
  contentType: string | undefined;
  custom: Record<string, string>;
  timeCreated: string;
}

interface Precondition {
  ifGenerationMatch?: number | string;
}

/** An error shaped like the SDK's ApiError: the HTTP status in `code`. */
export function apiError(code: number, message: string): Error & { code: number } {
  return Object.assign(new Error(message), { code });
}

function metadataOf(name: string, object: StoredObject): FileMetadata {
  return {
    name,
    size: String(object.bytes.byteLength),
    generation: String(object.generation),
    timeCreated: object.timeCreated,
    ...(object.contentType === undefined ? {} : { contentType: object.contentType }),
    metadata: { ...object.custom },
  };
}

interface UploadMetadata {
  contentType?: string;
  metadata?: Record<string, string>;
}

export class FakeFile {
  metadata: FileMetadata = {};

  constructor(
    private readonly bucket: FakeBucket,
    readonly name: string,
    private readonly generation?: number | string,
  ) {}

  async getMetadata(): Promise<[FileMetadata]> {
    const object = this.bucket.find(this.name, this.generation);
    this.metadata = metadataOf(this.name, object);
    return [this.metadata];
  }

  async save(data: Buffer, options: { metadata?: UploadMetadata; preconditionOpts?: Precondition } = {}): Promise<void> {
    this.bucket.calls.push(`save ${this.name}`);
    this.metadata = this.bucket.commit(this.name, Buffer.from(data), options.metadata, options.preconditionOpts);
  }

  createWriteStream(options: { metadata?: UploadMetadata; preconditionOpts?: Precondition; resumable?: boolean } = {}): Writable {
    this.bucket.calls.push(`createWriteStream ${this.name} resumable=${String(options.resumable)}`);
    const pieces: Buffer[] = [];
    return new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        pieces.push(Buffer.from(chunk));
        callback();
      },
      // Only a finished stream commits: a destroyed one (failed or cancelled body) stores nothing.
      final: (callback) => {
        try {
          this.metadata = this.bucket.commit(this.name, Buffer.concat(pieces), options.metadata, options.preconditionOpts);
          callback();
        } catch (err) {
          callback(err as Error);
        }
      },
    });
  }

  async setMetadata(patch: { metadata?: Record<string, string> }, options: Precondition = {}): Promise<void> {
    const object = this.bucket.find(this.name);
    if (options.ifGenerationMatch !== undefined && String(options.ifGenerationMatch) !== String(object.generation)) {
      throw apiError(412, 'conditionNotMet');
    }
    Object.assign(object.custom, patch.metadata ?? {});
  }

  createReadStream(options: { start?: number; end?: number } = {}): Readable {
    let object: StoredObject;
    try {
      object = this.bucket.find(this.name, this.generation);
    } catch (err) {
      const failing = new Readable({ read() {} });
      process.nextTick(() => failing.destroy(err as Error));
      return failing;
    }
    const start = options.start ?? 0;
    const end = options.end === undefined ? object.bytes.byteLength : options.end + 1;
    const bytes = object.bytes.subarray(start, end);
    // Served in small pieces, as a network read would be.
    const pieces: Buffer[] = [];
    for (let offset = 0; offset < bytes.byteLength; offset += 16_384) pieces.push(bytes.subarray(offset, offset + 16_384));
    return Readable.from(pieces, { objectMode: false });
  }

  async delete(): Promise<void> {
    this.bucket.find(this.name);
    this.bucket.objects.delete(this.name);
  }

  async createResumableUpload(options: unknown): Promise<[string]> {
    this.bucket.sessions.push({ name: this.name, options });
    return [`https://storage.example/upload/${encodeURIComponent(this.name)}?upload_id=${this.bucket.sessions.length}`];
  }

  async getSignedUrl(config: { version: string; action: string; expires: number }): Promise<[string]> {
    this.bucket.signed.push({ name: this.name, config });
    return [`https://storage.example/${encodeURIComponent(this.name)}?X-Goog-Expires=${config.expires}`];
  }
}

export class FakeBucket {
  readonly objects = new Map<string, StoredObject>();
  readonly sessions: { name: string; options: unknown }[] = [];
  readonly signed: { name: string; config: unknown }[] = [];
  readonly calls: string[] = [];
  private nextGeneration = 1_000;

  /** Typed as the SDK's Bucket for the code under test. */
  asBucket(): Bucket {
    return this as unknown as Bucket;
  }

  file(name: string, options: { generation?: number | string } = {}): FakeFile {
    return new FakeFile(this, name, options.generation);
  }

  async getFiles(query: { prefix?: string; maxResults?: number; pageToken?: string }): Promise<[FakeFile[], unknown, unknown]> {
    this.calls.push(`getFiles ${query.prefix ?? ''} ${query.pageToken ?? ''}`);
    const names = [...this.objects.keys()]
      .filter((name) => name.startsWith(query.prefix ?? '') && (query.pageToken === undefined || name > query.pageToken))
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const page = names.slice(0, query.maxResults ?? names.length);
    const files = page.map((name) => {
      const file = new FakeFile(this, name);
      const object = this.objects.get(name);
      if (object) file.metadata = metadataOf(name, object);
      return file;
    });
    const last = page[page.length - 1];
    const next = names.length > page.length && last !== undefined ? { ...query, pageToken: last } : null;
    return [files, next, {}];
  }

  /** The object, or the 404 the service answers. */
  find(name: string, generation?: number | string): StoredObject {
    const object = this.objects.get(name);
    if (!object || (generation !== undefined && String(generation) !== String(object.generation))) {
      throw apiError(404, `No such object: ${name}`);
    }
    return object;
  }

  commit(name: string, bytes: Buffer, metadata: UploadMetadata | undefined, precondition: Precondition | undefined): FileMetadata {
    const existing = this.objects.get(name);
    if (precondition?.ifGenerationMatch !== undefined && String(precondition.ifGenerationMatch) !== String(existing?.generation ?? 0)) {
      throw apiError(412, 'At least one of the pre-conditions you specified did not hold.');
    }
    this.nextGeneration += 1;
    const object: StoredObject = {
      bytes,
      generation: this.nextGeneration,
      contentType: metadata?.contentType,
      custom: { ...(metadata?.metadata ?? {}) },
      timeCreated: new Date().toISOString(),
    };
    this.objects.set(name, object);
    return metadataOf(name, object);
  }
}
