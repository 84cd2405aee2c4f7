/**
 * The production composition root (`createProductionRuntime`) run for real, with its adapters over
 * the hand-written SDK fakes (FakeFirestore for Lifeboat's database and the app's, a FakeBucket per
 * bucket, fakes of the task queues, FCM and the Eventarc channel): a whole backup through the
 * deployed function definitions, playing what Firestore, Cloud Storage and Cloud Tasks would do
 * (the created-document event, the upload's finalize event, task dispatch), then every callable
 * answered once. It checks the wiring: the named database, the two buckets, the session origin,
 * the lifecycle events. The services themselves are checked by the conformance suites (emulators,
 * `npm run test:live`).
 */
import type { Functions } from 'firebase-admin/functions';
import type { Messaging } from 'firebase-admin/messaging';
import firebaseFunctionsTest from 'firebase-functions-test';
import type { Request } from 'firebase-functions/v2/tasks';
import * as functions from '../../src/index';
import { API_HANDLERS, type ApiName } from '../../src/core/api';
import { uploadKey } from '../../src/core/keys';
import { TASK_FUNCTION_NAMES } from '../../src/firebase/config/task-queues';
import { useRuntime } from '../../src/firebase/runtime/firebase-runtime';
import { createProductionRuntime, type ProductionConfig } from '../../src/firebase/runtime/production-backend';
import { LIFECYCLE_EVENT_TYPES, silentLogger, type QueueName, type TaskPayload } from '../../src/ports';
import { FakeBucket } from '../adapters/fake-bucket';
import { FakeFirestore } from '../adapters/fake-firestore';
import { contactsChunk, describeChunk } from '../fakes/engine-harness';
import { loadFunctionsEnv } from './function-env';

loadFunctionsEnv();
const ORIGIN = 'https://app.example.com';
const fft = firebaseFunctionsTest({ projectId: 'demo-lifeboat' });
const previousOrigins = process.env['LIFEBOAT_ALLOWED_ORIGINS'];
beforeAll(() => {
  process.env['LIFEBOAT_ALLOWED_ORIGINS'] = JSON.stringify([ORIGIN]);
});
afterAll(() => {
  fft.cleanup();
  useRuntime(null);
  if (previousOrigins === undefined) delete process.env['LIFEBOAT_ALLOWED_ORIGINS'];
  else process.env['LIFEBOAT_ALLOWED_ORIGINS'] = previousOrigins;
});

/** firebase-admin's task queues as Cloud Tasks keeps them: one task per id, recorded until dispatched. */
class FakeTaskQueues {
  readonly pending: Array<{ queue: string; data: TaskPayload; id: string }> = [];
  private readonly seen = new Set<string>();

  taskQueue(queue: string) {
    return {
      enqueue: async (data: TaskPayload, options: { id?: string } = {}) => {
        const id = options.id ?? `auto-${this.seen.size}`;
        if (this.seen.has(`${queue}/${id}`)) throw Object.assign(new Error('task exists'), { code: 'functions/task-already-exists' });
        this.seen.add(`${queue}/${id}`);
        this.pending.push({ queue, data, id });
      },
      delete: async () => {},
    };
  }
}

class FakeMessaging {
  readonly sent: unknown[] = [];
  async send(message: unknown): Promise<string> {
    this.sent.push(message);
    return `m${this.sent.length}`;
  }
}

class FakeChannel {
  readonly published: Array<{ type: string; source: string; subject: string; data: Record<string, unknown> }> = [];
  async publish(event: never): Promise<void> {
    this.published.push(event);
  }
}

const config: ProductionConfig = {
  region: 'us-central1',
  masterKeys: 'a'.repeat(64),
  downloadBaseUrl: () => 'https://us-central1-demo-lifeboat.cloudfunctions.net/downloadBlob',
  mediaHosts: '',
  chatMessagesPath: 'conversations/{conversationId}/messages',
  chatParticipantsField: 'participants',
  eventSource: '//lifeboat/projects/demo-lifeboat',
};

type Callable = (request: { data: unknown; auth?: { uid: string; token: Record<string, unknown> }; rawRequest?: unknown }) => Promise<any>;

function call(name: ApiName, data: unknown, origin?: string): Promise<any> {
  const wrapped = fft.wrap(functions[name] as never) as unknown as Callable;
  return wrapped({ data, auth: { uid: 'alice', token: { uid: 'alice', sub: 'alice' } }, ...(origin ? { rawRequest: { headers: { origin } } } : {}) });
}

function taskRequest(data: TaskPayload, id: string): Request<TaskPayload> {
  return { data, id, retryCount: 0, executionCount: 0, queueName: 'q', scheduledTime: new Date(0).toISOString() } as Request<TaskPayload>;
}

describe('createProductionRuntime over the SDK fakes', () => {
  const db = new FakeFirestore();
  const appDb = new FakeFirestore();
  const blobsBucket = new FakeBucket();
  const uploadsBucket = new FakeBucket();
  const tasks = new FakeTaskQueues();
  const messaging = new FakeMessaging();
  const channel = new FakeChannel();
  const answered = new Set<ApiName>();

  const answer = async (name: ApiName, data: unknown, origin?: string) => {
    const result = await call(name, data, origin);
    answered.add(name);
    return result;
  };

  /** What Cloud Tasks does: dispatch every queued task to its function until none is left. */
  async function drain(): Promise<string[]> {
    const ran: string[] = [];
    while (tasks.pending.length > 0) {
      const task = tasks.pending.shift() as { queue: string; data: TaskPayload; id: string };
      const queue = (Object.keys(TASK_FUNCTION_NAMES) as QueueName[]).find((q) => TASK_FUNCTION_NAMES[q] === task.queue);
      expect(queue).toBeDefined();
      await (functions[TASK_FUNCTION_NAMES[queue as QueueName]] as unknown as { run(req: Request<TaskPayload>): Promise<void> }).run(taskRequest(task.data, task.id));
      ran.push(task.queue);
    }
    return ran;
  }

  /** What Firestore does when a job document is created in Lifeboat's database. */
  async function jobCreated(jobId: string): Promise<void> {
    const doc = db.docs.get(`backupJobs/${jobId}`);
    expect(doc).toBeDefined();
    await functions.onBackupJobCreated.run({
      specversion: '1.0',
      id: `evt-${jobId}`,
      source: '//firestore.googleapis.com/projects/demo-lifeboat/databases/lifeboat',
      type: 'google.cloud.firestore.document.v1.created',
      time: new Date().toISOString(),
      project: 'demo-lifeboat',
      database: 'lifeboat',
      namespace: '(default)',
      document: `backupJobs/${jobId}`,
      params: { jobId },
      data: { id: jobId, exists: true, data: () => doc },
    } as never);
  }

  /** What Cloud Storage does when a device finishes a session's upload: the object, then `object.finalized`. */
  async function uploadCompletes(sessionIndex: number, bytes: Uint8Array): Promise<void> {
    const session = uploadsBucket.sessions[sessionIndex] as { name: string; options: { metadata: { contentType: string; metadata: Record<string, string> } } };
    uploadsBucket.commit(session.name, Buffer.from(bytes), session.options.metadata, undefined);
    const wrapped = fft.wrap(functions.onChunkObjectFinalized) as unknown as (event: unknown) => Promise<void>;
    await wrapped({ data: { bucket: 'demo-lifeboat-uploads', name: session.name, size: String(bytes.byteLength), contentType: 'application/octet-stream', metadata: session.options.metadata.metadata } });
  }

  beforeAll(() => {
    useRuntime(
      createProductionRuntime(
        {
          db: db.asFirestore(),
          appDb: appDb.asFirestore(),
          blobsBucket: blobsBucket.asBucket(),
          uploadsBucket: uploadsBucket.asBucket(),
          functions: tasks as unknown as Functions,
          messaging: messaging as unknown as Messaging,
          events: channel,
        },
        config,
        silentLogger,
      ),
    );
  });

  it('backs up through the deployed functions: documents in Lifeboat\'s database, uploads and blobs in their own buckets', async () => {
    const bytes = contactsChunk(['c1', 'c2', 'c3']);
    const chunk = describeChunk('contacts', bytes, 3);
    const { job } = await answer('createBackupJob', { deviceId: 'phone-1', types: ['contacts'], options: { wifiOnly: false } });
    await jobCreated(job.id);
    expect(await drain()).toEqual(['kickoffTask']);
    expect(await answer('registerChunks', { jobId: job.id, chunks: [chunk] })).toMatchObject({ missing: [chunk.id] });
    // A web client: its session carries its origin, so GCS answers its PUTs with CORS.
    const { uploadUrl } = await answer('beginChunkUpload', { jobId: job.id, chunkId: chunk.id }, ORIGIN);
    expect(uploadUrl).toMatch(/^https:\/\/storage\.example\/upload\//);
    expect(uploadsBucket.sessions).toEqual([{ name: uploadKey('alice', job.id, chunk.id), options: expect.objectContaining({ origin: ORIGIN }) }]);
    await uploadCompletes(0, bytes);
    expect(await answer('commitUpload', { jobId: job.id, chunkCount: 1 })).toMatchObject({ job: { uploadCommitted: true } });
    // The completed job also enqueues its user's maintenance (retention, then GC: 65 min later on
    // Cloud Tasks; this fake runs it at once, and the grace period keeps the new blobs).
    expect(await drain()).toEqual(['processChunkTask', 'finalizeTask', 'maintenanceTask']);

    const { job: done } = await answer('getBackupJob', { jobId: job.id });
    expect(done).toMatchObject({ status: 'completed', snapshotId: `snap_${job.id}` });
    // Where everything went: job documents in the (fake) Lifeboat database, nothing in the app's;
    // the raw upload in the uploads bucket, blobs, manifest and keys in the blobs bucket.
    expect(db.docs.has(`backupJobs/${job.id}`)).toBe(true);
    expect(db.docs.has(`snapshots/snap_${job.id}`)).toBe(true);
    expect(appDb.docs.size).toBe(0);
    expect([...uploadsBucket.objects.keys()].every((k) => k.startsWith('uploads/'))).toBe(true);
    expect([...blobsBucket.objects.keys()].some((k) => k.startsWith('users/alice/'))).toBe(true);
    expect([...blobsBucket.objects.keys()].filter((k) => k.startsWith('uploads/'))).toEqual([]);
    // The host app heard of it through the Eventarc channel.
    expect(channel.published).toContainEqual(expect.objectContaining({ type: LIFECYCLE_EVENT_TYPES.backupCompleted, source: config.eventSource, subject: `backupJobs/${job.id}`, data: expect.objectContaining({ jobId: job.id, uid: 'alice', snapshotId: `snap_${job.id}`, processedItems: 3 }) }));
  });

  it('answers every callable once', async () => {
    const [{ id: jobId } = { id: '' }] = (await answer('listBackupJobs', {})).jobs as Array<{ id: string }>;
    const snapshotId = `snap_${jobId}`;
    expect((await answer('listSnapshots', {})).snapshots.map((s: { id: string }) => s.id)).toEqual([snapshotId]);
    expect((await answer('getSnapshot', { snapshotId })).snapshot).toMatchObject({ id: snapshotId, totals: { items: 3 } });
    expect((await answer('verifySnapshot', { snapshotId })).report).toMatchObject({ ok: true });
    expect(channel.published.map((e) => e.type)).toContain(LIFECYCLE_EVENT_TYPES.snapshotHealthChanged);
    const plan = await answer('getRestorePlan', { snapshotId });
    expect(plan.items).toHaveLength(3);
    const links = Object.values(plan.downloads as Record<string, { url: string }>);
    expect(links.length).toBeGreaterThan(0);
    for (const { url } of links) expect(url).toMatch(/^https:\/\/us-central1-demo-lifeboat\.cloudfunctions\.net\/downloadBlob\/lbd1\./);

    const { schedule } = await answer('setSchedule', { deviceId: 'phone-1', kind: 'nightly', types: ['contacts'], timeZone: 'Europe/London' });
    expect((await answer('listSchedules', {})).schedules).toHaveLength(1);
    expect(await answer('deleteSchedule', { scheduleId: schedule.id })).toEqual({ deleted: schedule.id });
    expect((await answer('setRetentionPolicy', { policy: { keepLast: 5 } })).policy).toMatchObject({ keepLast: 5 });
    expect((await answer('getRetentionPolicy', {})).policy).toMatchObject({ keepLast: 5 });
    expect(await answer('registerDevice', { deviceId: 'phone-1', fcmToken: 'fcm-token-1' })).toMatchObject({ deviceId: 'phone-1' });
    expect(db.docs.get('users/alice/devices/phone-1')).toMatchObject({ fcmToken: 'fcm-token-1' });

    const kdf = { name: 'scrypt', N: 2 ** 14, r: 8, p: 1, salt: '0'.repeat(32) };
    expect(await answer('getEndToEndParams', {})).toEqual({ params: null });
    const v2 = { version: 2, kdf, keyCheck: '1'.repeat(64), wrappedKey: '2'.repeat(120) };
    expect(await answer('initEndToEndParams', { params: v2 })).toMatchObject({ created: true });
    const next = { ...v2, kdf: { ...kdf, salt: '3'.repeat(32) }, keyCheck: '4'.repeat(64) };
    expect(await answer('changeEndToEndParams', { previousKeyCheck: v2.keyCheck, params: next })).toEqual({ params: next });

    // Job control on a second job: pause, resume, cancel, retry refused for a completed job.
    const { job } = await answer('createBackupJob', { deviceId: 'phone-1', types: ['contacts'] });
    await jobCreated(job.id);
    await drain();
    expect((await answer('pauseBackup', { jobId: job.id, reason: 'battery_low' })).job).toMatchObject({ status: 'paused' });
    expect((await answer('resumeBackup', { jobId: job.id })).job).toMatchObject({ status: 'running' });
    expect((await answer('cancelBackup', { jobId: job.id })).job).toMatchObject({ status: 'cancelled' });
    await expect(answer('retryBackup', { jobId })).rejects.toMatchObject({ code: 'failed-precondition' });
    answered.add('retryBackup');

    // Deleting, as the SDK's deleteSnapshot and deleteMyData do: one snapshot, then all of the user.
    await answer('deleteSnapshot', { snapshotId });
    expect((await answer('listSnapshots', {})).snapshots).toEqual([]);
    const { deletion } = await answer('deleteMyData', { confirm: true });
    expect(['reclaimed', 'done']).toContain(deletion.status);
    // Nothing of alice's is left in Lifeboat's database or buckets but the deletion's own record
    // and her key's tombstone, which stay until the deletion settles.
    const left = [...db.docs.entries()].filter(([path, doc]) => (doc as { uid?: string }).uid === 'alice' || path.startsWith('users/alice/'));
    expect(left.map(([path]) => path).filter((path) => !path.includes('deletion'))).toEqual([]);
    expect([...blobsBucket.objects.keys()].filter((k) => k.startsWith('users/alice/'))).toEqual([]);
    expect([...uploadsBucket.objects.keys()].filter((k) => k.includes('/alice/'))).toEqual([]);

    expect([...answered].sort()).toEqual((Object.keys(API_HANDLERS) as ApiName[]).sort());
  });

  it('refuses a browser origin that is not allowed, changing nothing', async () => {
    const before = db.docs.size;
    await expect(call('createBackupJob', { deviceId: 'phone-1', types: ['contacts'] }, 'https://evil.example')).rejects.toMatchObject({ code: 'permission-denied' });
    expect(db.docs.size).toBe(before);
  });
});
