/** FcmNotifier over a hand-written fake of firebase-admin's `Messaging.send()`. */
import type { Messaging, TokenMessage } from 'firebase-admin/messaging';
import { FcmNotifier, fcmMessage, firestoreTokenLookup, FirestoreDeviceRegistry } from '../../src/adapters';
import type { Logger } from '../../src/ports';
import { FakeFirestore, grpcError } from './fake-firestore';

class FakeMessaging {
  readonly sent: TokenMessage[] = [];
  failNext: Error | undefined;

  asMessaging(): Messaging {
    return this as unknown as Messaging;
  }

  async send(message: TokenMessage): Promise<string> {
    if (this.failNext) {
      const err = this.failNext;
      this.failNext = undefined;
      throw err;
    }
    this.sent.push(message);
    return `projects/demo/messages/${this.sent.length}`;
  }
}

function recordingLogger(): Logger & { lines: { message: string; fields?: Record<string, unknown> }[] } {
  const lines: { message: string; fields?: Record<string, unknown> }[] = [];
  const log = (message: string, fields?: Record<string, unknown>) => lines.push(fields ? { message, fields } : { message });
  return { lines, info: log, warn: log, error: log };
}

describe('FcmNotifier', () => {
  const tokens: Record<string, string> = { 'u1/phone': 'token-1' };
  const lookup = async (uid: string, deviceId: string) => tokens[`${uid}/${deviceId}`] ?? null;

  it('sends a data-only wake-up to the device’s token', async () => {
    const messaging = new FakeMessaging();
    expect(await new FcmNotifier(messaging.asMessaging(), lookup).notifyDevice('u1', 'phone', { kind: 'backup-requested', jobId: 'j1' })).toEqual({ outcome: 'sent' });
    expect(messaging.sent).toEqual([fcmMessage('token-1', { kind: 'backup-requested', jobId: 'j1' })]);
    const [message] = messaging.sent;
    expect(message?.data).toEqual({ kind: 'backup-requested', jobId: 'j1' });
    expect(message).not.toHaveProperty('notification');
    expect(message?.apns?.headers).toEqual({ 'apns-push-type': 'background', 'apns-priority': '5' });
    expect(message?.android?.priority).toBe('high');
  });

  it('logs and resolves no-token for a device without a token', async () => {
    const messaging = new FakeMessaging();
    const logger = recordingLogger();
    expect((await new FcmNotifier(messaging.asMessaging(), lookup, logger).notifyDevice('u1', 'tablet', { kind: 'backup-requested', jobId: 'j2' })).outcome).toBe('no-token');
    expect(messaging.sent).toEqual([]);
    expect(logger.lines).toEqual([
      { message: expect.stringContaining('no FCM registration token'), fields: { uid: 'u1', deviceId: 'tablet', jobId: 'j2' } },
    ]);
  });

  it.each(['messaging/registration-token-not-registered', 'messaging/invalid-registration-token'])('forgets a token FCM answers %s for, unless the device registered another meanwhile', async (code) => {
    const db = new FakeFirestore();
    const registry = new FirestoreDeviceRegistry(db.asFirestore(), { now: () => 5 });
    await registry.setToken('u1', 'phone', 'dead-token');
    await registry.setToken('u1', 'tablet', 'dead-too');
    const messaging = new FakeMessaging();
    const notifier = new FcmNotifier(messaging.asMessaging(), firestoreTokenLookup(db.asFirestore()), undefined, registry);
    messaging.failNext = Object.assign(new Error('Requested entity was not found.'), { code });
    expect(await notifier.notifyDevice('u1', 'phone', { kind: 'backup-requested', jobId: 'j1' })).toMatchObject({ outcome: 'token-invalid', message: expect.stringContaining(code) });
    expect(await registry.getToken('u1', 'phone')).toBeNull();
    // The next wake-up finds no token instead of trying the dead one again.
    expect(await notifier.notifyDevice('u1', 'phone', { kind: 'backup-requested', jobId: 'j2' })).toMatchObject({ outcome: 'no-token' });
    expect(messaging.sent).toEqual([]);
    // A device that registered a new token between the lookup and the answer keeps it.
    const racing = new FcmNotifier(messaging.asMessaging(), async () => 'dead-too', undefined, registry);
    await registry.setToken('u1', 'tablet', 'fresh-token');
    messaging.failNext = Object.assign(new Error('gone'), { code });
    expect((await racing.notifyDevice('u1', 'tablet', { kind: 'backup-requested', jobId: 'j3' })).outcome).toBe('token-invalid');
    expect(await registry.getToken('u1', 'tablet')).toBe('fresh-token');
  });

  it('reports a passing FCM failure as transient', async () => {
    const messaging = new FakeMessaging();
    messaging.failNext = Object.assign(new Error('try later'), { code: 'messaging/server-unavailable' });
    await expect(
      new FcmNotifier(messaging.asMessaging(), lookup).notifyDevice('u1', 'phone', { kind: 'backup-requested', jobId: 'j1' }),
    ).rejects.toMatchObject({ code: 'unavailable', retryable: true });
  });

  it('looks tokens up in users/{uid}/devices/{deviceId}.fcmToken', async () => {
    const db = new FakeFirestore();
    db.docs.set('users/u1/devices/phone', { fcmToken: 'tok' });
    db.docs.set('users/u1/devices/old', { fcmToken: '' });
    const find = firestoreTokenLookup(db.asFirestore());
    expect(await find('u1', 'phone')).toBe('tok');
    expect(await find('u1', 'old')).toBeNull();
    expect(await find('u1', 'none')).toBeNull();
    expect(db.reads).toEqual(['users/u1/devices/phone', 'users/u1/devices/old', 'users/u1/devices/none']);
    const failing = new FakeFirestore();
    failing.doc = () => {
      throw grpcError(14, 'UNAVAILABLE');
    };
    await expect(firestoreTokenLookup(failing.asFirestore())('u1', 'phone')).rejects.toMatchObject({ code: 'unavailable' });
  });
});
