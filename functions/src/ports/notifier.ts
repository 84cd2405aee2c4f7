import type { CallOptions } from './common';

/** A message for a user's device (an FCM data message on Firebase). */
export interface DeviceMessage {
  kind: 'backup-requested';
  jobId: string;
}

/**
 * What came of a wake-up: `sent` (handed to the transport; delivery is not confirmed), `no-token`
 * (the device has no push token), `token-invalid` (the transport no longer knows the token, which
 * was forgotten: the device must register a new one).
 */
export interface NotifyResult {
  outcome: 'sent' | 'no-token' | 'token-invalid';
  message?: string;
}

/** Wakes devices, e.g. to upload for a scheduled backup. */
export interface Notifier {
  /**
   * Sends a best-effort message to one device of a user. Resolves once handed to the transport,
   * with what came of it (nothing: sent); an unknown device or one without a token resolves
   * `no-token`. A transport failure rejects.
   */
  notifyDevice(uid: string, deviceId: string, message: DeviceMessage, options?: CallOptions): Promise<NotifyResult | void>;
}
