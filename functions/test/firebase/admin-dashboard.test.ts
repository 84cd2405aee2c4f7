/**
 * The admin surface on Firebase: the `adminDashboard` function (page and admin API for ID tokens
 * carrying the admin claim) over the engine on the Firebase adapters and the SDK fakes, the claim
 * helpers over a fake Auth, and the Cloud Tasks queue monitor over a fake Cloud Tasks API.
 */
import { randomBytes } from 'node:crypto';
import * as functions from '../../src/index';
import { masterKey } from '../../src/core/encryption/wrapped-key-ring';
import { override } from '../../src/core/override';
import { CloudTasksMonitor } from '../../src/adapters/cloud-tasks-monitor';
import { adminClaimVerifier, setAdminClaim, type ClaimsAuth } from '../../src/adapters/firebase-admin-claims';
import { setDepsForTesting } from './test-runtime';
import { handleAdminRequest, type AdminHttpRequest } from '../../src/firebase/functions/admin-dashboard';
import { TASK_FUNCTION_NAMES } from '../../src/firebase/config/task-queues';
import { QUEUE_NAMES, silentLogger } from '../../src/ports';
import { contactsChunk, describeChunk } from '../fakes/engine-harness';
import { createFirebaseHarness, type FirebaseHarness } from '../fakes/firebase-harness';

afterEach(() => setDepsForTesting(null));

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
  json(): any;
}

function response(): { res: { writeHead(s: number, h: Record<string, string>): void; end(b?: string | Buffer): void }; done: Promise<Answer> } {
  let resolve!: (a: Answer) => void;
  const done = new Promise<Answer>((r) => (resolve = r));
  let status = 0;
  let headers: Record<string, string> = {};
  return {
    res: {
      writeHead(s, h) {
        status = s;
        headers = h;
      },
      end(b) {
        const body = b === undefined ? '' : b.toString();
        resolve({ status, headers, body, json: () => JSON.parse(body) });
      },
    },
    done,
  };
}

const ADMIN_TOKEN = 'id-token-of-an-admin';
const adminOf = async (token: string) => (token === ADMIN_TOKEN ? 'admin-uid' : null);

async function ask(h: FirebaseHarness, req: Partial<AdminHttpRequest>): Promise<Answer> {
  const { res, done } = response();
  await handleAdminRequest({ method: 'POST', path: '/', headers: {}, ...req }, res, h.admin, adminOf);
  return done;
}

const api = (h: FirebaseHarness, name: string, data: unknown = {}, token: string | null = ADMIN_TOKEN) =>
  ask(h, { path: `/api/${name}`, headers: token ? { authorization: `Bearer ${token}` } : {}, body: { data } });

async function backup(h: FirebaseHarness, uid: string, ids: string[], ...more: string[][]): Promise<string> {
  const chunks = [ids, ...more].map((list) => ({ bytes: contactsChunk(list), chunk: describeChunk('contacts', contactsChunk(list), list.length) }));
  const { job } = await h.call('createBackupJob', uid, { deviceId: `${uid}-phone`, types: ['contacts'] });
  await h.call('registerChunks', uid, { jobId: job.id, chunks: chunks.map((c) => c.chunk) });
  for (const { bytes, chunk } of chunks) {
    const { uploadUrl } = await h.call('beginChunkUpload', uid, { jobId: job.id, chunkId: chunk.id });
    if (uploadUrl) await h.upload(uploadUrl, bytes);
  }
  await h.call('commitUpload', uid, { jobId: job.id, chunkCount: chunks.length });
  await h.drain();
  return job.id;
}

describe('adminDashboard function', () => {
  it('is a public HTTPS function (the ID token is the credential)', () => {
    const endpoint = (functions.adminDashboard as unknown as { __endpoint: Record<string, any> }).__endpoint;
    expect(endpoint['httpsTrigger']).toBeDefined();
    expect(endpoint['httpsTrigger']['invoker']).toEqual(['public']);
    expect((functions.sampleQueues as unknown as { __endpoint: Record<string, any> }).__endpoint['scheduleTrigger']).toMatchObject({ schedule: 'every 5 minutes' });
  });

  it('serves the page, and the API to admins only', async () => {
    const h = createFirebaseHarness();
    const page = await ask(h, { method: 'GET', path: '/' });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>Lifeboat dashboard</title>');
    expect((await api(h, 'overview', {}, null)).status).toBe(401);
    const user = await api(h, 'overview', {}, 'id-token-of-a-user');
    expect(user.status).toBe(403);
    expect(user.json().error.message).toContain('lifeboat admin grant');
    expect((await api(h, 'nothing')).status).toBe(404);
    expect((await ask(h, { method: 'GET', path: '/api/overview', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(400);
    expect((await api(h, 'jobs', { limit: 1000 })).json().error.details.code).toBe('invalid-argument');
    const failing = async () => {
      throw new Error('keys out of reach');
    };
    const { res, done } = response();
    await handleAdminRequest({ method: 'POST', path: '/api/overview', headers: { authorization: 'Bearer x' }, body: { data: {} } }, res, h.admin, failing);
    expect((await done).status).toBe(503);
  });

  it('lists, filters and details jobs over Firestore, and retries a failed one to completion', async () => {
    const h = createFirebaseHarness();
    const done = await backup(h, 'alice', ['c1', 'c2']);
    const failed = await backup(h, 'bob', ['b1']);
    // Bob's job fails for good: a step error recorded as final.
    const bobJob = await h.store.getJob(failed);
    expect(bobJob?.status).toBe('completed');
    await h.store.runTransaction(async (tx) => {
      const j = await tx.getJob(failed);
      if (j) tx.setJob({ ...j, status: 'failed', phase: 'processing', snapshotId: null, finishedAt: h.clock.now(), lastError: { code: 'data-loss', message: 'x'.repeat(2000), step: 'finalize', at: h.clock.now(), retrying: false } });
    });

    const overview = (await api(h, 'overview')).json().result;
    expect(overview.jobCounts).toEqual({ completed: 1, failed: 1 });
    const list = (await api(h, 'jobs', { status: 'failed' })).json().result;
    expect(list.jobs.map((v: any) => v.job.id)).toEqual([failed]);
    expect(list.jobs[0].bar.tone).toBe('failed');
    expect((await api(h, 'jobs', { uid: 'alice', type: 'contacts' })).json().result.jobs.map((v: any) => v.job.id)).toEqual([done]);
    const detail = (await api(h, 'job', { jobId: done })).json().result;
    expect(detail.snapshot.id).toBe((await h.store.getJob(done))?.snapshotId);
    expect(detail.tasks).toBeNull();

    const retried = (await api(h, 'retryJob', { jobId: failed })).json().result;
    expect(retried.job.status).toBe('queued');
    await h.drain();
    expect((await h.store.getJob(failed))?.status).toBe('completed');

    const users = (await api(h, 'users')).json().result.users;
    expect(users.map((u: any) => [u.uid, u.health, u.snapshots])).toEqual([['alice', 'ok', 1], ['bob', 'ok', 1]]);
    const queues = (await api(h, 'queues')).json().result;
    expect(queues.queues.map((q: any) => q.name)).toEqual([...QUEUE_NAMES]);
    const gc = (await api(h, 'collectGarbage', { uid: 'alice', dryRun: true })).json().result.report;
    expect(gc).toMatchObject({ uid: 'alice', dryRun: true, status: 'done' });
  });

  it('checks a user in a maintenance task and shows its record on the user\'s page', async () => {
    const h = createFirebaseHarness();
    await backup(h, 'alice', ['c1', 'c2'], ['c3'], ['c4'], ['c5']);
    const asked = (await api(h, 'checkUser', { uid: 'alice', repair: false })).json().result;
    expect(asked).toMatchObject({ started: true, record: { uid: 'alice', status: 'queued', actor: 'admin-uid' } });
    // Asked again while queued: the same check, no second task.
    expect((await api(h, 'checkUser', { uid: 'alice', repair: true })).json().result).toEqual({ started: false, record: asked.record });
    expect(h.queue.pending.filter((t) => t.queue === 'maintenance')).toHaveLength(1);
    expect((await api(h, 'checkUser', { uid: 'alice/..', repair: false })).json().error.details.code).toBe('invalid-argument');
    expect((await api(h, 'checkUser', { uid: 'alice' })).json().error.details.code).toBe('invalid-argument');
    await h.drain();
    const user = (await api(h, 'user', { uid: 'alice' })).json().result;
    expect(user.check).toMatchObject({ status: 'done', requestedAt: asked.record.requestedAt, result: { ok: true, snapshots: 1, problemCount: 0 } });
    expect((await api(h, 'users')).json().result.users[0]).toMatchObject({ uid: 'alice', check: { status: 'done' } });
    // The verify action answers as the owner's call does: the report when it finishes in time.
    const verified = (await api(h, 'verifySnapshot', { snapshotId: user.recentSnapshots[0].id })).json().result;
    expect(verified.report).toMatchObject({ ok: true });
    // One that does not finish inline (a clock that jumps 30 s a reading) answers with the running
    // record at once; maintenance rounds finish it and record its health.
    let now = h.clock.now() + 60_000;
    const jumpy = { ...h.admin, clock: { now: () => (now += 30_000) } };
    const { res, done } = response();
    await handleAdminRequest({ method: 'POST', path: '/api/verifySnapshot', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: { data: { snapshotId: user.recentSnapshots[0].id } } }, res, jumpy, adminOf);
    const running = (await done).json().result;
    expect(running).toMatchObject({ report: null, verification: { status: 'running', nextRound: 1 } });
    await h.drain();
    expect((await h.store.getSnapshot(user.recentSnapshots[0].id))?.verification).toMatchObject({ status: 'done', startedAt: running.verification.startedAt });
  });

  it('deletes a snapshot as its owner would, and all of a user\'s data in bounded calls, leaving nothing of theirs and all of another\'s', async () => {
    const h = createFirebaseHarness({ masterKeys: { current: masterKey(new Uint8Array(randomBytes(32))) } });
    h.admin.deletionSettleMs = 0;
    const audited: string[] = [];
    h.admin.logger = { ...silentLogger, info: (message, fields) => audited.push(`${message} ${String(fields?.['actor'])} ${String(fields?.['uid'])}`) };
    const first = await backup(h, 'alice', ['a1', 'a2']);
    await backup(h, 'alice', ['a1', 'a3']);
    await backup(h, 'bob', ['b1']);
    await h.call('setSchedule', 'alice', { deviceId: 'alice-phone', kind: 'nightly', types: ['contacts'], timeZone: 'UTC' });
    await h.call('registerDevice', 'alice', { deviceId: 'alice-phone', fcmToken: 'token-of-alice' });
    const documents = (uid: string) => [...h.firestore.docs].filter(([path, data]) => path.includes(uid) || JSON.stringify(data).includes(uid)).map(([path, data]) => `${path} ${JSON.stringify(data)}`);
    const objects = (uid: string) => [...h.bucket.objects.keys()].filter((name) => name.includes(uid));
    const bobBefore = [documents('bob'), objects('bob')];
    expect(Math.min(documents('alice').length, objects('alice').length)).toBeGreaterThan(3);
    const aliceSnapshots = async () => (await h.call('listSnapshots', 'alice', {})).snapshots.map((s) => s.id);
    const [newer, older] = await aliceSnapshots();
    expect(older).toBe((await h.store.getJob(first))?.snapshotId);

    // Refused: a user's token, a bad input, an unknown snapshot, a deletion not confirmed.
    expect((await api(h, 'deleteSnapshot', { snapshotId: older }, 'id-token-of-a-user')).status).toBe(403);
    expect((await api(h, 'deleteSnapshot', {})).json().error.details.code).toBe('invalid-argument');
    const unknown = await api(h, 'deleteSnapshot', { snapshotId: 'no-such-snapshot' });
    expect([unknown.status, unknown.json().error.details.code]).toEqual([404, 'not-found']);
    for (const data of [{ uid: 'alice' }, { uid: 'alice', confirm: false }, { uid: 'alice/..', confirm: true }]) {
      expect((await api(h, 'deleteUserData', data)).json().error).toMatchObject({ details: { code: 'invalid-argument' } });
    }
    expect((await api(h, 'deleteUserData', { uid: 'alice' })).json().error.message).toContain('cannot be undone: pass confirm: true');
    expect(await aliceSnapshots()).toEqual([newer, older]);

    const deleted = (await api(h, 'deleteSnapshot', { snapshotId: older })).json().result.deletion;
    expect(deleted).toMatchObject({ snapshotId: older, deleted: true, gc: { status: 'done' } });
    expect(await aliceSnapshots()).toEqual([newer]);
    await expect(h.call('getRestorePlan', 'alice', { snapshotId: older })).rejects.toMatchObject({ code: 'not-found' });
    expect((await api(h, 'snapshots', { uid: 'alice' })).json().result.items.map((s: any) => s.id)).toEqual([newer]);
    // What the newer snapshot shares with it stays: it still reads back whole.
    expect((await api(h, 'verifySnapshot', { snapshotId: newer })).json().result.report).toMatchObject({ ok: true });
    expect((await api(h, 'deleteSnapshot', { snapshotId: older })).status).toBe(404);

    // Each object deletion takes 15 s of a call's 40: the dashboard calls again while it is running.
    const blobs = h.admin.blobs;
    h.admin.blobs = override(blobs, { delete: async (key, options) => { h.clock.advance(15_000); return blobs.delete(key, options); } });
    const statuses: string[] = [];
    let report: any;
    do {
      if (statuses.length > 100) throw new Error('deleteUserData never finishes');
      report = (await api(h, 'deleteUserData', { uid: 'alice', confirm: true })).json().result.deletion;
      statuses.push(report.status);
    } while (report.status === 'running');
    expect(statuses.length).toBeGreaterThan(2);
    expect(report).toMatchObject({ uid: 'alice', status: 'done', reason: 'admin', removed: { devices: 1 } });
    expect(report.removed.documents).toBeGreaterThanOrEqual(2 + 1 + 1);
    expect(report.removed.objects).toBeGreaterThan(0);
    expect([documents('alice'), objects('alice')]).toEqual([[], []]);
    expect([documents('bob'), objects('bob')]).toEqual(bobBefore);
    const bobSnapshot = (await h.call('listSnapshots', 'bob', {})).snapshots[0]?.id;
    expect((await api(h, 'verifySnapshot', { snapshotId: bobSnapshot })).json().result.report).toMatchObject({ ok: true });
    expect(audited.filter((line) => line.startsWith('admin delete'))).toEqual([`admin delete-snapshot admin-uid alice`, ...statuses.map(() => 'admin delete-user-data admin-uid alice')]);
  });

  it('runs as the exported function with the runtime\'s admin deps', async () => {
    const h = createFirebaseHarness();
    setDepsForTesting({ deps: h.deps, admin: h.admin, adminOf });
    const { res, done } = response();
    const req = { method: 'POST', path: '/api/overview', url: '/api/overview', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: { data: {} } };
    await (functions.adminDashboard as unknown as (req: unknown, res: unknown) => Promise<void>)(req, { ...res, setHeader() {}, getHeader() {}, on() {}, once() {} });
    const answer = await done;
    expect(answer.status).toBe(200);
    expect(answer.json().result.jobCounts).toEqual({});
  });
});

describe('admin claim', () => {
  function fakeAuth(): ClaimsAuth & { claims: Map<string, Record<string, unknown>> } {
    const claims = new Map<string, Record<string, unknown>>([['uid-ann', { tier: 'gold' }]]);
    return {
      claims,
      getUserByEmail: async (email: string) => {
        if (email !== 'ann@example.com') throw Object.assign(new Error('no user'), { code: 'auth/user-not-found' });
        return { uid: 'uid-ann', customClaims: claims.get('uid-ann') } as never;
      },
      setCustomUserClaims: async (uid: string, c: object | null) => {
        claims.set(uid, { ...(c ?? {}) });
      },
      verifyIdToken: async (token: string) => {
        if (token === 'expired') throw Object.assign(new Error('expired'), { code: 'auth/id-token-expired' });
        if (token === 'outage') throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        return { uid: token, ...(claims.get(token) ?? {}) } as never;
      },
    };
  }

  it('is granted and revoked by e-mail, keeping the other claims, and read from ID tokens', async () => {
    const auth = fakeAuth();
    const verify = adminClaimVerifier(auth);
    expect(await verify('uid-ann')).toBeNull();
    expect(await setAdminClaim(auth, 'ann@example.com', true)).toEqual({ uid: 'uid-ann', claims: { tier: 'gold', admin: true } });
    expect(await verify('uid-ann')).toBe('uid-ann');
    expect(await verify('expired')).toBeNull();
    await expect(verify('outage')).rejects.toMatchObject({ code: 'unavailable' });
    await setAdminClaim(auth, 'ann@example.com', false);
    expect(auth.claims.get('uid-ann')).toEqual({ tier: 'gold' });
    expect(await verify('uid-ann')).toBeNull();
    await expect(setAdminClaim(auth, 'nobody@example.com', true)).rejects.toMatchObject({ code: 'not-found' });
  });
});

describe('CloudTasksMonitor', () => {
  it('reads each queue\'s statistics from the Cloud Tasks API', async () => {
    const asked: string[] = [];
    const fetchStub = (async (url: string, init: { headers: Record<string, string> }) => {
      asked.push(`${url} ${init.headers['authorization']}`);
      const name = /queues\/([^?]+)/.exec(url)?.[1];
      if (name === 'sourcePageTask') return new Response('{}', { status: 200 });
      return new Response(JSON.stringify({ stats: { tasksCount: name === 'processChunkTask' ? '12' : '0', concurrentDispatchesCount: name === 'processChunkTask' ? '3' : '0', oldestEstimatedArrivalTime: '2026-01-01T00:00:00Z' } }), { status: 200 });
    }) as unknown as typeof fetch;
    const monitor = new CloudTasksMonitor({ projectId: 'p', region: 'europe-west1', functionNames: TASK_FUNCTION_NAMES, accessToken: async () => 'tok', fetch: fetchStub, now: () => 5 });
    const overview = await monitor.overview();
    expect(overview.queues.find((q) => q.name === 'processChunk')).toEqual({ name: 'processChunk', depth: 9, running: 3, nextDueAt: Date.parse('2026-01-01T00:00:00Z') });
    expect(overview.queues.find((q) => q.name === 'sourcePage')).toEqual({ name: 'sourcePage', depth: 0, running: 0, nextDueAt: null });
    expect(asked).toContain('https://cloudtasks.googleapis.com/v2beta3/projects/p/locations/europe-west1/queues/processChunkTask?readMask=stats Bearer tok');
    const denied = new CloudTasksMonitor({ projectId: 'p', region: 'r', functionNames: TASK_FUNCTION_NAMES, accessToken: async () => 'tok', fetch: (async () => new Response('no', { status: 403 })) as unknown as typeof fetch });
    await expect(denied.overview()).rejects.toMatchObject({ code: 'permission-denied', retryable: false });
  });
});
