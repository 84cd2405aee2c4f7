import type { CallOptions } from './common';

/**
 * Each device's push registration token (FCM), which the notifier needs to wake a device for a
 * scheduled backup. Devices report their token themselves (`registerDevice`) whenever it changes;
 * `null` forgets it (signed out, notifications off). Firestore: `users/{uid}/devices/{deviceId}`
 * `.fcmToken`, the document the FCM notifier reads; elsewhere a small settings blob.
 */
export interface DeviceRegistry {
  setToken(uid: string, deviceId: string, token: string | null, options?: CallOptions): Promise<void>;
  /** The device's token, or null when it has none. */
  getToken(uid: string, deviceId: string, options?: CallOptions): Promise<string | null>;
  /**
   * Deletes every device registration of the user (their data is being deleted); resolves with
   * how many went. Idempotent: a user with none is a no-op.
   */
  forgetUser(uid: string, options?: CallOptions): Promise<number>;
}
