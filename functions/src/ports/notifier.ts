import type { CallOptions } from './common';

/** A message for a user's device (an FCM data message on Firebase). */
export interface DeviceMessage {
  kind: 'backup-requested';
  jobId: string;
}

/** Wakes devices, e.g. to upload for a scheduled backup. */
export interface Notifier {
  /**
   * Sends a best-effort message to one device of a user. Resolves once handed to the transport;
   * delivery is not confirmed. An unknown device resolves without error.
   */
  notifyDevice(uid: string, deviceId: string, message: DeviceMessage, options?: CallOptions): Promise<void>;
}
