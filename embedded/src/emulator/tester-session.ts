/**
 * What `npm run emulators` runs inside `firebase emulators:exec` once the emulators are up: signs
 * a test user up with the Auth emulator and prints what an app's testers need (the SDK's
 * `baseUrl`, the user's ID token, how to get another), then waits until Ctrl-C stops the suite.
 */
import { messageOf } from '@lifeboat/engine/core';

/** The test user: the same on every start, so a tester's app can sign in with it too. */
export const TEST_USER = { email: 'tester@lifeboat.test', password: 'lifeboat-tester' } as const;

async function post(url: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const parsed = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${url.split('?')[0]} answered ${response.status}: ${JSON.stringify(parsed).slice(0, 300)}`);
  return parsed;
}

/** Signs the test user in (signing it up on first use) and returns its uid and ID token. */
export async function testUserToken(authHost: string): Promise<{ uid: string; idToken: string }> {
  const base = `http://${authHost}/identitytoolkit.googleapis.com/v1/accounts`;
  const account = await post(`${base}:signInWithPassword?key=fake-api-key`, { ...TEST_USER, returnSecureToken: true }).catch(() =>
    post(`${base}:signUp?key=fake-api-key`, { ...TEST_USER, returnSecureToken: true }),
  );
  return { uid: String(account['localId']), idToken: String(account['idToken']) };
}

async function main(): Promise<void> {
  const project = process.env['LIFEBOAT_EMULATOR_PROJECT'] ?? process.env['GCLOUD_PROJECT'] ?? 'demo-lifeboat';
  const functionsHost = process.env['LIFEBOAT_EMULATOR_FUNCTIONS_HOST'] ?? '127.0.0.1:5001';
  const authHost = process.env['LIFEBOAT_EMULATOR_AUTH_HOST'] ?? process.env['FIREBASE_AUTH_EMULATOR_HOST'] ?? '127.0.0.1:9099';
  const mode = process.env['LIFEBOAT_EMULATOR_MODE'] ?? 'embedded';
  const { uid, idToken } = await testUserToken(authHost);
  const baseUrl = `http://${functionsHost}/${project}/us-central1`;
  process.stdout.write(
    [
      '',
      `Lifeboat is running in the Emulator Suite (${mode === 'full' ? 'Firestore and Storage emulators' : 'embedded stores: no Java 21 for the Firestore and Storage emulators'}).`,
      `  SDK baseUrl:  ${baseUrl}`,
      `  test user:    ${TEST_USER.email} / ${TEST_USER.password} (uid ${uid})`,
      `  test token:   ${idToken}`,
      `  (an ID token lives 1 h; sign in again through the Auth emulator at http://${authHost}, or rerun npm run emulators)`,
      '  Point the app at it: createBackupClient({ baseUrl, getToken, deviceId }), getToken giving the',
      '  Firebase Auth emulator\'s ID token of the signed-in user (README, "Testing with the Emulator Suite").',
      'Ctrl-C stops the emulators.',
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
    setInterval(() => undefined, 60_000);
  });
  process.exit(0);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`npm run emulators: ${messageOf(err)}\n`);
    process.exit(1);
  });
}
