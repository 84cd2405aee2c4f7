/**
 * Valid documents for store tests. Each builder checks its result against the model's schema, so
 * a test that writes a fixture writes something core could have written.
 */
import {
  BackupJob,
  BackupOptions,
  ChunkIndexEntry,
  ChunkRecord,
  Schedule,
  Snapshot,
  emptyProgress,
} from '../../src/core/model';

const T0 = 1_700_000_000_000;

/** A 64-character lower-case hex id that sorts like `n` (a stand-in for a SHA-256). */
export function hexId(n: number): string {
  return n.toString(16).padStart(64, '0');
}

function checked<T>(schema: { parse(value: unknown): unknown }, doc: T): T {
  schema.parse(doc);
  return doc;
}

export function makeJob(overrides: Partial<BackupJob> = {}): BackupJob {
  return checked(BackupJob, {
    id: 'job-1',
    uid: 'u1',
    deviceId: 'device-1',
    types: ['contacts', 'media'],
    options: BackupOptions.parse({}),
    trigger: 'manual',
    scheduleId: null,
    status: 'queued',
    phase: 'pending',
    pauseReason: null,
    progress: emptyProgress(),
    attempts: 0,
    lastError: null,
    uploadCommitted: false,
    snapshotId: null,
    createdAt: T0,
    updatedAt: T0,
    startedAt: null,
    finishedAt: null,
    heartbeatAt: null,
    ...overrides,
  });
}

export function makeChunk(jobId: string, index: number, overrides: Partial<ChunkRecord> = {}): ChunkRecord {
  return checked(ChunkRecord, {
    jobId,
    uid: 'u1',
    id: hexId(1000 + index),
    index,
    type: 'contacts',
    size: 100 + index,
    items: 3,
    state: 'pending',
    deduplicated: false,
    uploadKey: null,
    resultRef: null,
    processedItems: 0,
    skippedItems: 0,
    storedBytes: 0,
    error: null,
    updatedAt: T0,
    ...overrides,
  });
}

export function makeChunkIndexEntry(overrides: Partial<ChunkIndexEntry> = {}): ChunkIndexEntry {
  return checked(ChunkIndexEntry, {
    uid: 'u1',
    key: `contacts:v1:${hexId(1)}`,
    resultRef: hexId(2),
    items: 5,
    skippedItems: 1,
    createdAt: T0,
    ...overrides,
  });
}

export function makeSnapshot(overrides: Partial<Snapshot> = {}): Snapshot {
  return checked(Snapshot, {
    id: 'snap-1',
    uid: 'u1',
    jobId: 'job-1',
    deviceId: 'device-1',
    parentId: null,
    types: ['contacts'],
    createdAt: T0,
    manifestRef: hexId(3),
    totals: { items: 4, skippedItems: 1, chunks: 2, originalBytes: 400, storedBytes: 120 },
    byType: { contacts: { items: 4, skipped: 1, bytes: 120 } },
    health: null,
    ...overrides,
  });
}

export function makeSchedule(overrides: Partial<Schedule> = {}): Schedule {
  return checked(Schedule, {
    id: 'sched-1',
    uid: 'u1',
    deviceId: 'device-1',
    kind: 'nightly',
    types: ['contacts'],
    options: BackupOptions.parse({}),
    timeZone: 'Europe/Paris',
    everyHours: null,
    cron: null,
    enabled: true,
    nextRunAt: T0 + 3_600_000,
    activeJobId: null,
    lastRunAt: null,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  });
}
