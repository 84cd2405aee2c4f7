import { FieldValue, Timestamp } from '@google-cloud/firestore';
import {
  COLLECTIONS,
  FirestoreLayout,
  documentId,
  fromDocument,
  timestampsToMillis,
  toDocument,
} from '../../src/adapters';
import { FirestoreWriteBuffer, incrementUpdate } from '../../src/adapters/firestore-write-buffer';
import { BackupJob, ChunkRecord, Schedule, Snapshot } from '../../src/core/model';
import { makeChunk, makeJob, makeSchedule, makeSnapshot } from '../conformance/fixtures';

describe('document conversion', () => {
  it('round-trips every model document exactly', () => {
    const job = makeJob({
      lastError: { code: 'unavailable', message: 'down', step: 'kickoff', at: 5, retrying: true },
      progress: { ...makeJob().progress, byType: { media: { items: 1, skipped: 0, bytes: 9 } } },
    });
    expect(fromDocument(BackupJob, toDocument(job), 'job')).toStrictEqual(job);
    expect(fromDocument(ChunkRecord, toDocument(makeChunk('j', 3)), 'chunk')).toStrictEqual(makeChunk('j', 3));
    const snapshot = makeSnapshot({ health: { checkedAt: 1, ok: true, checkedBlobs: 2, problems: 0 } });
    expect(fromDocument(Snapshot, toDocument(snapshot), 'snapshot')).toStrictEqual(snapshot);
    expect(fromDocument(Schedule, toDocument(makeSchedule()), 'schedule')).toStrictEqual(makeSchedule());
  });

  it('writes a copy: changing the model object afterwards changes nothing', () => {
    const job = makeJob();
    const doc = toDocument(job);
    job.progress.totalChunks = 9;
    expect((doc as { progress: { totalChunks: number } }).progress.totalChunks).toBe(0);
  });

  it('refuses values JSON would change', () => {
    expect(() => toDocument({ a: Number.NaN })).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    expect(() => toDocument({ a: [1, Infinity] })).toThrow(/document\.a\[1\]/);
    expect(() => toDocument({ f: () => 1 })).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
  });

  it('reads Timestamps an admin tool wrote as epoch milliseconds', () => {
    const job = makeJob({ createdAt: 1_700_000_000_123, startedAt: 1_700_000_001_000 });
    const written = {
      ...toDocument(job),
      createdAt: Timestamp.fromMillis(1_700_000_000_123),
      startedAt: Timestamp.fromDate(new Date(1_700_000_001_000)),
    };
    expect(fromDocument(BackupJob, written, 'job')).toStrictEqual(job);
  });

  it('converts Timestamps and Dates at any depth, leaving other values alone', () => {
    const value = { a: [Timestamp.fromMillis(5), { b: new Date(7) }], c: 'x', d: null, e: 3 };
    expect(timestampsToMillis(value)).toStrictEqual({ a: [5, { b: 7 }], c: 'x', d: null, e: 3 });
  });

  it('refuses a document that does not match its schema with a permanent data-loss', () => {
    const broken = { ...toDocument(makeJob()), status: 'exploded' };
    expect(() => fromDocument(BackupJob, broken, 'job j1')).toThrow(
      expect.objectContaining({ code: 'data-loss', retryable: false, message: expect.stringContaining('stored job j1') }),
    );
    expect(() => fromDocument(BackupJob, undefined, 'job')).toThrow(expect.objectContaining({ code: 'data-loss' }));
  });
});

describe('Firestore layout', () => {
  it('keeps ids Firestore accepts and encodes the others one-to-one', () => {
    expect(documentId('job_1-ABC')).toBe('job_1-ABC');
    expect(documentId('contacts:v1:abc')).toBe('contacts:v1:abc');
    const odd = ['a/b', '.', '..', '__x__', '~x', '', 'é'.repeat(800)];
    const encoded = odd.map(documentId);
    for (const id of encoded) {
      expect(id.startsWith('~')).toBe(true);
      expect(id.includes('/')).toBe(false);
    }
    expect(new Set(encoded).size).toBe(odd.length);
    expect(documentId('~x')).not.toBe('~x');
  });

  it('puts every collection under the root', () => {
    const layout = new FirestoreLayout('tenants/t1');
    expect(layout.job('j')).toBe('tenants/t1/backupJobs/j');
    expect(layout.chunk('j', 'c')).toBe('tenants/t1/backupJobs/j/chunks/c');
    expect(layout.chunkIndexEntry('u', 'media:q75:x')).toBe('tenants/t1/users/u/chunkIndex/media:q75:x');
    expect(layout.snapshot('s')).toBe('tenants/t1/snapshots/s');
    expect(layout.schedule('s')).toBe('tenants/t1/schedules/s');
    expect(layout.device('u', 'd')).toBe('tenants/t1/users/u/devices/d');
    expect(new FirestoreLayout().jobs()).toBe(COLLECTIONS.jobs);
    expect(new FirestoreLayout().job('a/b')).toBe(`backupJobs/${documentId('a/b')}`);
  });

  it('refuses a root that is not a document path', () => {
    for (const root of ['a', 'a/b/c', '/a/b', 'a//b', 'a/..']) {
      expect(() => new FirestoreLayout(root)).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    }
  });
});

describe('increments', () => {
  it('turns deltas into increments of field paths, whole per-type entries and touch fields', () => {
    const update = incrementUpdate(
      { counters: { processedChunks: 1, bytesStored: -4 }, byType: { media: { items: 2 } } },
      { updatedAt: 7, heartbeatAt: 8 },
    );
    expect(Object.keys(update).sort()).toEqual(
      [
        'progress.processedChunks',
        'progress.bytesStored',
        'progress.byType.media.items',
        'progress.byType.media.skipped',
        'progress.byType.media.bytes',
        'updatedAt',
        'heartbeatAt',
      ].sort(),
    );
    const same = (field: string, amount: number) => (update[field] as FieldValue).isEqual(FieldValue.increment(amount));
    expect(same('progress.processedChunks', 1)).toBe(true);
    expect(same('progress.bytesStored', -4)).toBe(true);
    expect(same('progress.byType.media.items', 2)).toBe(true);
    expect(same('progress.byType.media.skipped', 0)).toBe(true);
    expect(update.updatedAt).toBe(7);
  });

  it('still writes something for an empty increment, so a missing job fails the commit', () => {
    const update = incrementUpdate({});
    expect(Object.keys(update)).toEqual(['progress.totalChunks']);
    expect((update['progress.totalChunks'] as FieldValue).isEqual(FieldValue.increment(0))).toBe(true);
  });
});

describe('FirestoreWriteBuffer', () => {
  it('applies an increment to a job set earlier in the transaction', () => {
    const buffer = new FirestoreWriteBuffer();
    buffer.set('backupJobs/j1', makeJob({ id: 'j1' }));
    buffer.increment('backupJobs/j1', { counters: { uploadedChunks: 2 }, byType: { chats: { items: 1 } } }, { updatedAt: 9 });
    const [write] = buffer.list();
    if (write?.kind !== 'set') throw new Error('expected one set');
    const job = fromDocument(BackupJob, write.data, 'job');
    expect(job.progress.uploadedChunks).toBe(2);
    expect(job.progress.byType.chats).toEqual({ items: 1, skipped: 0, bytes: 0 });
    expect(job.updatedAt).toBe(9);
    expect(buffer.list()).toHaveLength(1);
  });

  it('adds up increments of one job, later touch fields winning', () => {
    const buffer = new FirestoreWriteBuffer();
    buffer.increment('j', { counters: { uploadedChunks: 1 }, byType: { media: { bytes: 3 } } }, { updatedAt: 1, heartbeatAt: 1 });
    buffer.increment('j', { counters: { uploadedChunks: 2, bytesUploaded: 5 }, byType: { media: { bytes: 4, items: 1 } } }, { updatedAt: 2 });
    expect(buffer.list()).toEqual([
      {
        kind: 'increment',
        path: 'j',
        deltas: { counters: { uploadedChunks: 3, bytesUploaded: 5 }, byType: { media: { bytes: 7, items: 1 } } },
        touch: { updatedAt: 2, heartbeatAt: 1 },
      },
    ]);
  });

  it('lets a set or delete replace earlier writes of the document, keeping call order', () => {
    const buffer = new FirestoreWriteBuffer();
    buffer.set('a', makeJob({ id: 'a', attempts: 1 }));
    buffer.set('b', { v: 1 });
    buffer.increment('a', {}, {});
    buffer.set('a', makeJob({ id: 'a' }));
    buffer.delete('b');
    expect(buffer.list().map((w) => [w.kind, w.path])).toEqual([
      ['set', 'a'],
      ['delete', 'b'],
    ]);
  });

  it('refuses an increment after a delete with not-found', () => {
    const buffer = new FirestoreWriteBuffer();
    buffer.delete('j');
    expect(() => buffer.increment('j', { counters: { uploadedChunks: 1 } }, {})).toThrow(expect.objectContaining({ code: 'not-found' }));
  });
});
