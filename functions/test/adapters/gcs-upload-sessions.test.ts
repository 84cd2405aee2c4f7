import {
  GcsBlobStore,
  GcsUploadSessions,
  LIFEBOAT_SHA256,
  LIFEBOAT_WRITTEN,
  parseUploadObject,
  shouldHandleFinalizedObject,
  signedDownloadUrl,
} from '../../src/adapters';
import { uploadKey } from '../../src/core/keys';
import { FakeBucket } from './fake-bucket';

const CHUNK = 'ab'.repeat(32);
const clock = { now: () => 1_700_000_000_000 };

describe('GcsUploadSessions', () => {
  it('opens a resumable session with the exact length, the expected hash and the caller’s metadata', async () => {
    const bucket = new FakeBucket();
    const sessions = new GcsUploadSessions(bucket.asBucket(), { prefix: 'lb/', clock, origin: 'https://app.example' });
    const key = uploadKey('u1', 'j1', CHUNK);
    const session = await sessions.create({
      key,
      size: 1234,
      sha256: CHUNK,
      metadata: { lifeboat: 'chunk-upload', uid: 'u1', jobId: 'j1', chunkId: CHUNK },
      uid: 'u1',
      jobId: 'j1',
    });
    expect(session.url).toMatch(/^https:\/\/storage\.example\/upload\//);
    expect(session.expiresAt).toBe(clock.now() + 7 * 24 * 3600 * 1000 - 5 * 60 * 1000);
    expect(bucket.sessions).toEqual([
      {
        name: `lb/${key}`,
        options: {
          origin: 'https://app.example',
          metadata: {
            contentType: 'application/octet-stream',
            contentLength: 1234,
            metadata: { lifeboat: 'chunk-upload', uid: 'u1', jobId: 'j1', chunkId: CHUNK, [LIFEBOAT_SHA256]: CHUNK },
          },
        },
      },
    ]);
  });

  it('refuses bad requests before opening anything', async () => {
    const bucket = new FakeBucket();
    const sessions = new GcsUploadSessions(bucket.asBucket(), { clock });
    const good = { key: 'uploads/u/j/c', size: 1, sha256: CHUNK, metadata: {}, uid: 'u', jobId: 'j' };
    for (const bad of [{ key: '../x' }, { size: -1 }, { size: 1.5 }, { sha256: 'ABC' }, { metadata: { [LIFEBOAT_WRITTEN]: 'true' } }]) {
      await expect(sessions.create({ ...good, ...bad })).rejects.toMatchObject({ code: 'invalid-argument' });
    }
    expect(bucket.sessions).toEqual([]);
  });

  it('has no partial bytes of its own to discard (GCS holds them until the session expires)', async () => {
    const bucket = new FakeBucket();
    const sessions = new GcsUploadSessions(bucket.asBucket(), { clock });
    await expect(sessions.discardJob('u1', 'j1')).resolves.toBe(0);
  });
});

describe('shouldHandleFinalizedObject', () => {
  it('takes device uploads under the uploads folder only', () => {
    expect(shouldHandleFinalizedObject({ name: `uploads/u1/j1/${CHUNK}`, metadata: { uid: 'u1' } })).toBe(true);
    expect(shouldHandleFinalizedObject({ name: `uploads/u1/j1/${CHUNK}` })).toBe(true);
    expect(shouldHandleFinalizedObject({ name: 'users/u1/blobs/ab/abc' })).toBe(false);
    expect(shouldHandleFinalizedObject({ name: 'uploadsX/u1/j1/c' })).toBe(false);
    expect(shouldHandleFinalizedObject({ name: `lb/uploads/u1/j1/${CHUNK}` })).toBe(false);
    expect(shouldHandleFinalizedObject({ name: `lb/uploads/u1/j1/${CHUNK}` }, { prefix: 'lb/' })).toBe(true);
  });

  it('ignores objects Lifeboat wrote itself', () => {
    expect(shouldHandleFinalizedObject({ name: `uploads/u1/j1/${CHUNK}`, metadata: { [LIFEBOAT_WRITTEN]: 'true' } })).toBe(false);
  });

  it('agrees with the tag the GcsBlobStore puts on everything it writes', async () => {
    const bucket = new FakeBucket();
    await new GcsBlobStore(bucket.asBucket()).put(`uploads/u1/j1/${CHUNK}`, new Uint8Array([1]));
    const stored = bucket.objects.get(`uploads/u1/j1/${CHUNK}`);
    expect(shouldHandleFinalizedObject({ name: `uploads/u1/j1/${CHUNK}`, metadata: stored?.custom ?? null })).toBe(false);
  });
});

describe('parseUploadObject', () => {
  it('reads the upload from the object name and size (a decimal string in CloudEvents)', () => {
    const name = uploadKey('u1', 'j1', CHUNK);
    expect(parseUploadObject({ name, size: '42', metadata: { lifeboat: 'chunk-upload', uid: 'u1', jobId: 'j1', chunkId: CHUNK } })).toEqual({
      uid: 'u1',
      jobId: 'j1',
      chunkId: CHUNK,
      key: name,
      size: 42,
    });
    expect(parseUploadObject({ name: `lb/${name}`, size: 7 }, { prefix: 'lb/' })).toEqual({
      uid: 'u1',
      jobId: 'j1',
      chunkId: CHUNK,
      key: name,
      size: 7,
    });
  });

  it('returns null for anything that is not a chunk upload', () => {
    const cases = [
      { name: `uploads/u1/j1/${CHUNK}`, size: 1, metadata: { [LIFEBOAT_WRITTEN]: 'true' } },
      { name: `uploads/u1/j1/${CHUNK}/extra`, size: 1 },
      { name: 'uploads/u1/j1', size: 1 },
      { name: 'uploads/u1/j1/not-a-sha', size: 1 },
      { name: `uploads/u1/j1/${CHUNK.toUpperCase()}`, size: 1 },
      { name: `uploads/u1/../${CHUNK}`, size: 1 },
      { name: `uploads/u1/j1/${CHUNK}`, size: 'lots' },
      { name: `uploads/u1/j1/${CHUNK}`, size: -1 },
      { name: `uploads/u1/j1/${CHUNK}` },
      // Metadata that names another job than the path: not ours to trust.
      { name: `uploads/u1/j1/${CHUNK}`, size: 1, metadata: { jobId: 'j2' } },
      { name: `users/u1/blobs/ab/${CHUNK}`, size: 1 },
    ];
    for (const object of cases) expect([object, parseUploadObject(object)]).toEqual([object, null]);
  });
});

describe('signedDownloadUrl', () => {
  it('signs a v4 read URL for the object under the prefix', async () => {
    const bucket = new FakeBucket();
    const signed = await signedDownloadUrl(bucket.asBucket(), 'users/u1/blobs/ab/x', 600, { prefix: 'lb/', clock });
    expect(signed.expiresAt).toBe(clock.now() + 600_000);
    expect(signed.url).toContain('https://storage.example/');
    expect(bucket.signed).toEqual([
      { name: 'lb/users/u1/blobs/ab/x', config: { version: 'v4', action: 'read', expires: clock.now() + 600_000 } },
    ]);
  });

  it('refuses lifetimes past seven days and bad keys', async () => {
    const bucket = new FakeBucket();
    for (const seconds of [0, 604_801, 1.5]) {
      await expect(signedDownloadUrl(bucket.asBucket(), 'a', seconds)).rejects.toMatchObject({ code: 'invalid-argument' });
    }
    await expect(signedDownloadUrl(bucket.asBucket(), '../a', 60)).rejects.toMatchObject({ code: 'invalid-argument' });
    expect(bucket.signed).toEqual([]);
  });
});
