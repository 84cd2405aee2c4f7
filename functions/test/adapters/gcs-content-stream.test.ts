/**
 * Streamed content over GcsBlobStore and its fake bucket: the content-streaming suite, and a check
 * that a streamed put hands the upload one piece at a time rather than reading its source ahead.
 */
import { Writable } from 'node:stream';
import { randomBytes, createHash } from 'node:crypto';
import type { Bucket } from '@google-cloud/storage';
import { GcsBlobStore } from '../../src/adapters';
import { ContentStore } from '../../src/core/content-store';
import { describeContentStreaming } from '../conformance/content-stream-conformance';
import { FakeBucket, FakeFile } from './fake-bucket';

describeContentStreaming('GcsBlobStore over a fake bucket', async () => {
  const bucket = new FakeBucket();
  return {
    store: new GcsBlobStore(bucket.asBucket()),
    async overwrite(key, bytes) {
      // Corruption at rest: the bytes change, the SHA-256 stored with them does not.
      const object = bucket.objects.get(key);
      if (!object) throw new Error(`no object ${key}`);
      object.bytes = Buffer.from(bytes);
    },
  };
});

/** A bucket whose uploads are slow readers, recording how far the source ran ahead of them. */
class SlowBucket extends FakeBucket {
  pulled = 0;
  written = 0;
  maxAhead = 0;
  override file(name: string, options: { generation?: number | string } = {}): FakeFile {
    const file = super.file(name, options);
    const bucket = this;
    const inner = file.createWriteStream.bind(file);
    file.createWriteStream = (opts = {}) => {
      const sink = inner(opts);
      return new Writable({
        highWaterMark: 16 * 1024,
        write(chunk: Buffer, _encoding, callback) {
          bucket.written += chunk.byteLength;
          sink.write(chunk, () => setTimeout(callback, 1));
        },
        final(callback) {
          sink.end(callback);
        },
        destroy(err, callback) {
          sink.destroy(err ?? undefined);
          callback(err);
        },
      });
    };
    return file;
  }
}

it('a streamed put reads its source only as fast as the upload takes it', async () => {
  const bucket = new SlowBucket();
  const content = new ContentStore(new GcsBlobStore(bucket as unknown as Bucket));
  const plaintext = new Uint8Array(randomBytes(2 * 1024 * 1024));
  async function* source(): AsyncGenerator<Uint8Array> {
    for (let at = 0; at < plaintext.byteLength; at += 64 * 1024) {
      bucket.pulled += 64 * 1024;
      bucket.maxAhead = Math.max(bucket.maxAhead, bucket.pulled - bucket.written);
      yield plaintext.subarray(at, at + 64 * 1024);
    }
  }
  const sha256 = createHash('sha256').update(plaintext).digest('hex');
  await content.putStream('alice', source(), { sha256, size: plaintext.byteLength, compress: false });
  expect(bucket.written).toBeGreaterThanOrEqual(plaintext.byteLength);
  // A few pieces in flight (stream buffers), never the file.
  expect(bucket.maxAhead).toBeLessThan(1024 * 1024);
});

it('stores a small blob in one request (its hash in the upload), a large one streamed', async () => {
  const bucket = new FakeBucket();
  const content = new ContentStore(new GcsBlobStore(bucket.asBucket()));
  await content.put('alice', new TextEncoder().encode('a small chunk result'));
  expect(bucket.calls.filter((c) => c.startsWith('save ')).length).toBe(1);
  const large = new Uint8Array(randomBytes(2 * 1024 * 1024));
  await content.put('alice', large, { compress: false });
  expect(bucket.calls.filter((c) => c.startsWith('createWriteStream ')).length).toBe(1);
});
