/**
 * Notifier on Firebase Cloud Messaging: a data-only message to one device's registration token,
 * high priority on Android and a background push on iOS, so the app wakes without showing
 * anything and resumes the waiting job.
 *
 * Where tokens live is the app's business: the notifier takes a lookup function. A device with no
 * token cannot be woken; that is logged and the call resolves `no-token`. A token FCM reports
 * unregistered or invalid (`messaging/registration-token-not-registered`,
 * `messaging/invalid-registration-token`) can never be used again: it is forgotten (through the
 * registry, when one is given, and only if the device has not registered another since) and the
 * call resolves `token-invalid`, so no later wake-up tries it again.
 */
import type { Firestore } from '@google-cloud/firestore';
import type { Messaging, TokenMessage } from 'firebase-admin/messaging';
import { silentLogger, throwIfAborted, type CallOptions, type DeviceMessage, type DeviceRegistry, type Logger, type Notifier, type NotifyResult } from '../ports';
import { toLifeboatError } from './adapter-errors';
import { FirestoreLayout } from './firestore-layout';

/** The device's current FCM registration token, or null when it has none. */
export type RegistrationTokenLookup = (uid: string, deviceId: string) => Promise<string | null>;

/** FCM's codes for a token that will never work again: the token is forgotten. */
export const DEAD_TOKEN_CODES: ReadonlySet<string> = new Set(['messaging/registration-token-not-registered', 'messaging/invalid-registration-token']);

/** A wake-up message is useless once the scheduled run expires, 24 hours after its slot. */
const MESSAGE_TTL_MS = 24 * 3600 * 1000;

/** The FCM message that wakes a device for `message`; pure, so tests can read it. */
export function fcmMessage(token: string, message: DeviceMessage): TokenMessage {
  return {
    token,
    data: { kind: message.kind, jobId: message.jobId },
    android: { priority: 'high', ttl: MESSAGE_TTL_MS, collapseKey: message.jobId },
    // Background pushes must use priority 5 and carry content-available, or iOS drops them.
    apns: {
      headers: { 'apns-push-type': 'background', 'apns-priority': '5' },
      payload: { aps: { contentAvailable: true } },
    },
  };
}

/**
 * A token lookup over Firestore documents `{root}/users/{uid}/devices/{deviceId}` with a string
 * field `fcmToken`. Nothing in the engine writes these documents yet: the app (or a future
 * `registerDevice` callable) does.
 */
export function firestoreTokenLookup(db: Firestore, options: { root?: string } = {}): RegistrationTokenLookup {
  const layout = new FirestoreLayout(options.root);
  return async (uid, deviceId) => {
    try {
      const snap = await db.doc(layout.device(uid, deviceId)).get();
      const token: unknown = snap.get('fcmToken');
      return typeof token === 'string' && token.length > 0 ? token : null;
    } catch (err) {
      throw toLifeboatError(err, `look up the FCM token of device ${deviceId}`);
    }
  };
}

/** {@link Notifier} on FCM; see the module comment. */
export class FcmNotifier implements Notifier {
  /**
   * @param messaging firebase-admin's Messaging service (`getMessaging()`).
   * @param lookupToken finds a device's registration token (e.g. {@link firestoreTokenLookup}).
   * @param logger where a device without a token is reported. @default silentLogger
   */
  constructor(
    private readonly messaging: Messaging,
    private readonly lookupToken: RegistrationTokenLookup,
    private readonly logger: Logger = silentLogger,
    /** Where dead tokens are forgotten (`registerDevice` writes there). @default none: only reported */
    private readonly registry?: Pick<DeviceRegistry, 'getToken' | 'setToken'>,
  ) {}

  async notifyDevice(uid: string, deviceId: string, message: DeviceMessage, options: CallOptions = {}): Promise<NotifyResult> {
    throwIfAborted(options.signal);
    const token = await this.lookupToken(uid, deviceId);
    if (!token) {
      this.logger.info('device has no FCM registration token: not woken', { uid, deviceId, jobId: message.jobId });
      return { outcome: 'no-token', message: 'the device has no FCM registration token' };
    }
    throwIfAborted(options.signal);
    try {
      await this.messaging.send(fcmMessage(token, message));
      return { outcome: 'sent' };
    } catch (err) {
      const code = (err as { code?: unknown } | null)?.code;
      if (typeof code === 'string' && DEAD_TOKEN_CODES.has(code)) {
        await this.forget(uid, deviceId, token);
        this.logger.warn('FCM token of a device is dead: forgotten', { uid, deviceId, code });
        return { outcome: 'token-invalid', message: `FCM answered ${code}: the token was removed; the device must register a new one` };
      }
      throw toLifeboatError(err, `wake device ${deviceId}`);
    }
  }

  /** Forgets the token unless the device registered another one meanwhile. */
  private async forget(uid: string, deviceId: string, dead: string): Promise<void> {
    if (!this.registry) return;
    if ((await this.registry.getToken(uid, deviceId)) === dead) await this.registry.setToken(uid, deviceId, null);
  }
}
