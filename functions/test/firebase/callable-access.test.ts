/**
 * Who may call: `LIFEBOAT_ALLOW_ANONYMOUS=false` refuses anonymous users the calls that start
 * backups (and nothing else), and `LIFEBOAT_ENFORCE_APP_CHECK=true` makes every callable refuse a
 * request without an App Check token before its handler runs. The quota params reach the engine.
 */
import firebaseFunctionsTest from 'firebase-functions-test';
import { HttpsError } from 'firebase-functions/v2/https';
import { assertMayBackUp } from '../../src/firebase/functions/callables';
import { setDepsForTesting } from './test-runtime';
import { quotasFromParams } from '../../src/firebase/runtime/production-backend';
import { createHarness } from '../fakes/engine-harness';

const fft = firebaseFunctionsTest({ projectId: 'demo-lifeboat' });
afterAll(() => fft.cleanup());
afterEach(() => {
  setDepsForTesting(null);
  for (const k of ['LIFEBOAT_ALLOW_ANONYMOUS', 'LIFEBOAT_ENFORCE_APP_CHECK', 'LIFEBOAT_QUOTA_CONCURRENT_JOBS', 'LIFEBOAT_QUOTA_STORED_BYTES', 'LIFEBOAT_QUOTA_BACKUPS_PER_DAY', 'LIFEBOAT_QUOTA_BYTES_PER_JOB']) delete process.env[k];
});

type Wrapped = (request: { data: unknown; auth?: { uid: string; token: Record<string, unknown> } }) => Promise<any>;

function anonymous(uid: string) {
  return { uid, token: { uid, sub: uid, firebase: { sign_in_provider: 'anonymous', identities: {} } } };
}

describe('anonymous users', () => {
  it('may back up unless the deployment says not, and may always read what they have', async () => {
    const functions = require('../../src/index') as typeof import('../../src/index');
    const h = createHarness();
    setDepsForTesting({ deps: h.deps });
    const create = fft.wrap(functions.createBackupJob as never) as unknown as Wrapped;
    const list = fft.wrap(functions.listBackupJobs as never) as unknown as Wrapped;
    const setSchedule = fft.wrap(functions.setSchedule as never) as unknown as Wrapped;
    process.env['LIFEBOAT_ALLOW_ANONYMOUS'] = 'true';
    expect((await create({ data: { deviceId: 'p', types: ['contacts'] }, auth: anonymous('anon-1') })).job.uid).toBe('anon-1');

    process.env['LIFEBOAT_ALLOW_ANONYMOUS'] = 'false';
    const refused = await create({ data: { deviceId: 'p', types: ['contacts'] }, auth: anonymous('anon-1') }).then(() => null, (e: unknown) => e);
    expect(refused).toBeInstanceOf(HttpsError);
    expect(refused).toMatchObject({ code: 'permission-denied', details: { reason: 'anonymous' } });
    const scheduleRefused = await setSchedule({ data: { deviceId: 'p', kind: 'nightly', types: ['contacts'], timeZone: 'UTC' }, auth: anonymous('anon-1') }).then(() => null, (e: unknown) => e);
    expect(scheduleRefused).toMatchObject({ code: 'permission-denied' });
    // Nothing was created by the refused calls; reading is still answered.
    expect((await list({ data: {}, auth: anonymous('anon-1') })).jobs).toHaveLength(1);
    expect(await h.deps.store.listSchedules('anon-1')).toEqual([]);
    // A signed-in user is not anonymous.
    expect((await create({ data: { deviceId: 'p', types: ['contacts'] }, auth: { uid: 'u1', token: { uid: 'u1', sub: 'u1', firebase: { sign_in_provider: 'password' } } } })).job.uid).toBe('u1');
  });

  it('assertMayBackUp refuses only the calls that start backups', () => {
    const anon = { firebase: { sign_in_provider: 'anonymous' } };
    expect(() => assertMayBackUp('createBackupJob', anon, false)).toThrow(/anonymous users may not back up/);
    expect(() => assertMayBackUp('getRestorePlan', anon, false)).not.toThrow();
    expect(() => assertMayBackUp('createBackupJob', anon, true)).not.toThrow();
    expect(() => assertMayBackUp('createBackupJob', { firebase: { sign_in_provider: 'google.com' } }, false)).not.toThrow();
  });
});

/** A raw callable request as Cloud Functions passes it (express), with no App Check header and no auth. */
async function rawCall(fn: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const req = { method: 'POST', headers, body: { data: { deviceId: 'p', types: ['contacts'] } }, header: (name: string) => headers[name.toLowerCase()], get: (name: string) => headers[name.toLowerCase()] };
    let status = 200;
    const res = {
      status(code: number) {
        status = code;
        return res;
      },
      send(body: unknown) {
        resolve({ status, body });
        return res;
      },
      json(body: unknown) {
        resolve({ status, body });
        return res;
      },
      setHeader() {},
      getHeader() {},
      set() {
        return res;
      },
      header() {
        return res;
      },
      on() {},
      end() {},
      write() {},
    };
    void (fn as (req: unknown, res: unknown) => unknown)(req, res);
  });
}

describe('App Check enforcement', () => {
  it('refuses a call without an App Check token before the handler when on', async () => {
    const h = createHarness();
    const run = async (enforce: boolean) => {
      process.env['LIFEBOAT_ENFORCE_APP_CHECK'] = String(enforce);
      let fn: unknown;
      jest.isolateModules(() => {
        fn = (require('../../src/index') as typeof import('../../src/index')).createBackupJob;
        // The isolated module set has its own deps seam.
        (require('./test-runtime') as typeof import('./test-runtime')).setDepsForTesting({ deps: h.deps });
      });
      return rawCall(fn);
    };
    const on = await run(true);
    // Refused by the callable protocol itself: the engine's own message never shows.
    expect(on.status).toBe(401);
    expect(JSON.stringify(on.body)).not.toContain('sign in first');
    const off = await run(false);
    // Without enforcement the request reaches the handler, which refuses the missing sign-in itself.
    expect(off.status).toBe(401);
    expect(JSON.stringify(off.body)).toContain('sign in first');
  });
});

describe('quota params', () => {
  it('become the engine\'s quotas, 0 meaning none', () => {
    process.env['LIFEBOAT_QUOTA_CONCURRENT_JOBS'] = '3';
    process.env['LIFEBOAT_QUOTA_STORED_BYTES'] = '0';
    process.env['LIFEBOAT_QUOTA_BACKUPS_PER_DAY'] = '24';
    process.env['LIFEBOAT_QUOTA_BYTES_PER_JOB'] = '1073741824';
    expect(quotasFromParams()).toEqual({ storedBytes: null, backupsPerDay: 24, concurrentJobs: 3, bytesPerJob: 1073741824 });
  });
});
