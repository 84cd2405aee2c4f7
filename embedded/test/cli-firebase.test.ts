/**
 * `lifeboat --project P …` against a deployment: the Firebase adapters over the SDK fakes
 * (FakeFirestore, FakeBucket; the network to Google is closed here), run in-process through
 * runCli with the clients injected. The same commands, output and exit codes as on the embedded
 * runtime (cli.test.ts runs them there); rewrap-keys fans out as tasks and, run twice over
 * 1 000 users, leaves every key under the new master key and every snapshot restorable with it
 * alone.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContentStore, masterKey, taskDefinitions, WrappedKeyRing, type EngineDeps } from '@lifeboat/engine/core';
import type { TaskQueue } from '@lifeboat/engine/ports';
import { contactsChunk, describeChunk } from '../../functions/test/fakes/engine-harness';
import { createFirebaseHarness, type FirebaseHarness } from '../../functions/test/fakes/firebase-harness';
import { runCli } from '../src/cli/main';
import type { FirebaseClients } from '../src/cli/firebase-data';

const OLD = randomBytes(32);
const NEW = randomBytes(32);
const hex = (b: Buffer) => b.toString('hex');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-cli-firebase-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Claims {
  uid: string;
  customClaims?: Record<string, unknown>;
}

/** A deployment: the engine on the Firebase fakes, with the master key `keys`. */
function deployment(keys: Buffer[]): { h: FirebaseHarness; users: Map<string, Claims> } {
  const [current, ...previous] = keys.map((k) => masterKey(new Uint8Array(k)));
  const h = createFirebaseHarness({ masterKeys: { current: current!, previous } });
  return { h, users: new Map([['ann@example.com', { uid: 'uid-ann', customClaims: { plan: 'pro' } }]]) };
}

/** The clients `--project` would open, on the deployment's fakes; tasks run as the deployed functions would, with `keys`. */
function clients(h: FirebaseHarness, users: Map<string, Claims>, functionKeys: Buffer[]): FirebaseClients {
  const [current, ...previous] = functionKeys.map((k) => masterKey(new Uint8Array(k)));
  const functionDeps: EngineDeps = { ...h.deps, keyRing: new WrappedKeyRing(h.deps.blobs, { current: current!, previous }) };
  const definitions = taskDefinitions(functionDeps);
  let draining: Promise<unknown> = Promise.resolve();
  const queue: TaskQueue = {
    async enqueue(name, payload, options) {
      const r = await h.queue.enqueue(name, payload, options);
      draining = draining.then(() => h.queue.drain(definitions));
      return r;
    },
  };
  return {
    firestore: h.firestore.asFirestore(),
    bucket: h.bucket.asBucket(),
    queue,
    auth: () => ({
      getUserByEmail: async (email: string) => {
        const user = users.get(email);
        if (!user) throw Object.assign(new Error('no such user'), { code: 'auth/user-not-found' });
        return user;
      },
      setCustomUserClaims: async (uid: string, claims: object | null) => {
        for (const u of users.values()) if (u.uid === uid) u.customClaims = { ...(claims ?? {}) };
      },
    }),
    close: async () => undefined,
  };
}

async function cli(args: string[], c: FirebaseClients, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli([...args, '--project', 'demo-lifeboat'], { stdout: { write: (t: string) => (out += t), isTTY: false }, stderr: { write: (t: string) => (err += t) }, env }, { connectFirebase: () => c, pollMs: 5 });
  return { code, out, err };
}

async function backup(h: FirebaseHarness, uid: string, ids: string[]): Promise<string> {
  const bytes = contactsChunk(ids);
  const chunk = describeChunk('contacts', bytes, ids.length);
  const { job } = await h.call('createBackupJob', uid, { deviceId: `${uid}-phone`, types: ['contacts'] });
  await h.call('registerChunks', uid, { jobId: job.id, chunks: [chunk] });
  const { uploadUrl } = await h.call('beginChunkUpload', uid, { jobId: job.id, chunkId: chunk.id });
  if (uploadUrl) await h.upload(uploadUrl, bytes);
  await h.call('commitUpload', uid, { jobId: job.id, chunkCount: 1 });
  await h.drain();
  return ((await h.store.getJob(job.id))?.snapshotId as string) ?? '';
}

describe('lifeboat --project', () => {
  it('lists, verifies, restores, diffs, forgets, collects garbage and grants admins on a deployment', async () => {
    const { h, users } = deployment([OLD]);
    const first = await backup(h, 'alice', ['c1', 'c2']);
    h.clock.advance(60_000);
    const second = await backup(h, 'alice', ['c1', 'c2', 'c3']);
    await backup(h, 'bob', ['b1']);
    const c = clients(h, users, [OLD]);
    const env = { LIFEBOAT_MASTER_KEY: hex(OLD) };

    const jobs = await cli(['jobs', '--uid', 'alice', '--json'], c);
    expect(jobs.code).toBe(0);
    expect(JSON.parse(jobs.out).map((j: { status: string }) => j.status)).toEqual(['completed', 'completed']);
    const everyone = await cli(['jobs', '--status', 'completed'], c);
    expect(everyone.out.split('\n').filter(Boolean)).toHaveLength(3);
    expect(everyone.out).toContain('  bob  completed');
    expect((await cli(['snapshots', '--uid', 'alice'], c)).out.split('\n').filter(Boolean).map((l) => l.split('  ')[0])).toEqual([second, first]);

    const verify = await cli(['verify', 'latest', '--uid', 'alice'], c, env);
    expect(verify).toMatchObject({ code: 0, out: expect.stringMatching(new RegExp(`^${second}: checked \\d+ of \\d+ blobs \\(3 items\\): OK\\n$`)) });
    // A short id, as embedded.
    expect((await cli(['stats', second.replace('snap_', ''), '--json'], c)).out).toContain(`"snapshot":"${second}"`);
    const ambiguous = await cli(['stats', 'snap_'], c);
    expect(ambiguous).toMatchObject({ code: 2, err: expect.stringMatching(/^lifeboat: invalid-argument: snapshot id prefix snap_ is ambiguous/) });

    const to = join(dir, 'restored');
    const restore = await cli(['restore', second, '--to', to], c, env);
    expect(restore.code).toBe(0);
    expect(readFileSync(join(to, 'contacts.ndjson'), 'utf8').split('\n').filter(Boolean)).toHaveLength(3);
    expect((await cli(['diff', first, second], c, env)).out).toContain('contacts: 1 added');
    // Without the master key, a command that reads blobs says what to set.
    expect(await cli(['verify', second], c)).toMatchObject({ code: 1, err: expect.stringContaining('LIFEBOAT_MASTER_KEY') });
    expect(await cli(['verify', 'snap_nothing'], c, env)).toMatchObject({ code: 1, err: expect.stringMatching(/^lifeboat: not-found: /) });

    const forget = await cli(['forget', '--uid', 'alice', '--dry-run', '--json'], c);
    expect(JSON.parse(forget.out)).toMatchObject({ uid: 'alice', dryRun: true, forget: [] });
    const gc = await cli(['gc', '--uid', 'alice', '--grace-hours', '0', '--json'], c, env);
    expect(JSON.parse(gc.out)).toMatchObject({ uid: 'alice', status: 'done', liveSnapshots: 2 });
    expect((await cli(['verify', first], c, env)).code).toBe(0);

    expect(await cli(['admin', 'grant', '--email', 'ann@example.com'], c)).toMatchObject({ code: 0, out: expect.stringContaining('is an admin of project demo-lifeboat') });
    expect(users.get('ann@example.com')?.customClaims).toEqual({ plan: 'pro', admin: true });
    await cli(['admin', 'revoke', '--email', 'ann@example.com'], c);
    expect(users.get('ann@example.com')?.customClaims).toEqual({ plan: 'pro' });
    expect(await cli(['admin', 'grant', '--email', 'nobody@example.com'], c)).toMatchObject({ code: 1, err: expect.stringMatching(/^lifeboat: not-found: /) });
    expect(await cli(['admin', 'promote', '--email', 'ann@example.com'], c)).toMatchObject({ code: 2 });

    // The embedded runtime's own commands take no --project.
    expect(await cli(['serve'], c)).toMatchObject({ code: 2, err: expect.stringContaining('takes no --project') });
    expect(await cli(['token', '--uid', 'x'], c)).toMatchObject({ code: 2 });
    expect((await runCli(['admin', 'grant', '--email', 'a@b.c', '--data', dir], { stdout: { write: () => true }, stderr: { write: () => true }, env: {} }))).toBe(2);
  });

  it('re-wraps 1 000 users\' keys by fanning out tasks, twice, and every snapshot restores with the new key alone', async () => {
    const { h, users } = deployment([OLD]);
    const snapshots = [await backup(h, 'alice', ['a1', 'a2']), await backup(h, 'bob', ['b1'])];
    // 998 more users with a data key and one encrypted blob each, under the old master key.
    const oldRing = h.deps.keyRing as WrappedKeyRing;
    const oldContent = new ContentStore(h.deps.blobs, oldRing);
    const uids = ['alice', 'bob', ...Array.from({ length: 998 }, (_, i) => `user-${String(i).padStart(4, '0')}`)];
    const blobsOf = new Map<string, string>();
    for (const uid of uids.slice(2)) blobsOf.set(uid, (await oldContent.put(uid, new TextEncoder().encode(`secret of ${uid}`))).hash);

    // Rotated: the functions have NEW,OLD; the CLI only fans out.
    const c = clients(h, users, [NEW, OLD]);
    const firstRun = await cli(['rewrap-keys', '--json'], c);
    expect(firstRun.code).toBe(0);
    const first = JSON.parse(firstRun.out);
    expect(first).toMatchObject({ pages: 10, users: 1000, donePages: 10, rewrapped: 1000, alreadyCurrent: 0, masterKey: masterKey(new Uint8Array(NEW)).id });
    const secondRun = await cli(['rewrap-keys'], c);
    expect(secondRun).toMatchObject({ code: 0, out: expect.stringMatching(/^Re-wrapped 0 data key\(s\) under master key [0-9a-f]{16} \(1000 user\(s\), 1000 already under it, 10 task\(s\)\)\n$/) });

    // The new key alone: every key unwraps, every blob decrypts, every snapshot restores.
    const newOnly = new WrappedKeyRing(h.deps.blobs, { current: masterKey(new Uint8Array(NEW)) });
    for (const uid of uids) expect(await newOnly.wrappedUnder(uid)).toBe(newOnly.currentKeyId);
    const content = new ContentStore(h.deps.blobs, newOnly);
    for (const [uid, hash] of blobsOf) expect(new TextDecoder().decode(await content.get(uid, hash))).toBe(`secret of ${uid}`);
    for (const [i, snapshot] of snapshots.entries()) {
      const to = join(dir, `rewrapped-${i}`);
      const restored = await cli(['restore', snapshot, '--to', to], c, { LIFEBOAT_MASTER_KEY: hex(NEW) });
      expect(restored.code).toBe(0);
      expect(existsSync(join(to, 'contacts.ndjson'))).toBe(true);
    }

    // --no-wait queues and returns.
    const queued = await cli(['rewrap-keys', '--no-wait', '--json'], c);
    expect(JSON.parse(queued.out)).toMatchObject({ pages: 10, users: 1000, waited: false });
  }, 120_000);
});
