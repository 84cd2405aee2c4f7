/** FcmNotifier over a hand-written fake of firebase-admin's `Messaging.send()`. */
import type { Messaging, TokenMessage } from 'firebase-admin/messaging';
import { FcmNotifier, fcmMessage, firestoreTokenLookup } from '../../src/adapters';
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
    await new FcmNotifier(messaging.asMessaging(), lookup).notifyDevice('u1', 'phone', { kind: 'backup-requested', jobId: 'j1' });
    expect(messaging.sent).toEqual([fcmMessage('token-1', { kind: 'backup-requested', jobId: 'j1' })]);
    const [message] = messaging.sent;
    expect(message?.data).toEqual({ kind: 'backup-requested', jobId: 'j1' });
    expect(message).not.toHaveProperty('notification');
    expect(message?.apns?.headers).toEqual({ 'apns-push-type': 'background', 'apns-priority': '5' });
    expect(message?.android?.priority).toBe('high');
  });

  it('logs and resolves for a device without a token', async () => {
    const messaging = new FakeMessaging();
    const logger = recordingLogger();
    await new FcmNotifier(messaging.asMessaging(), lookup, logger).notifyDevice('u1', 'tablet', { kind: 'backup-requested', jobId: 'j2' });
    expect(messaging.sent).toEqual([]);
    expect(logger.lines).toEqual([
      { message: expect.stringContaining('no FCM registration token'), fields: { uid: 'u1', deviceId: 'tablet', jobId: 'j2' } },
    ]);
  });

  it('reports an unregistered token as a permanent not-found', async () => {
    const messaging = new FakeMessaging();
    messaging.failNext = Object.assign(new Error('Requested entity was not found.'), { code: 'messaging/registration-token-not-registered' });
    await expect(
      new FcmNotifier(messaging.asMessaging(), lookup).notifyDevice('u1', 'phone', { kind: 'backup-requested', jobId: 'j1' }),
    ).rejects.toMatchObject({ code: 'not-found', retryable: false, details: { uid: 'u1', deviceId: 'phone' } });
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
