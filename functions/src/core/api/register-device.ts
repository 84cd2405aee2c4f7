/** `registerDevice`: a device reports (or withdraws) its push token, so scheduled backups can wake it. */
import { z } from 'zod';
import { BlobDeviceRegistry } from '../device-settings';
import type { EngineDeps } from '../deps';
import { parseInput, requireUid, type CallableRequest } from './callable';

export const RegisterDeviceInput = z.strictObject({
  deviceId: z.string().trim().min(1).max(128),
  /** The device's FCM registration token, or null to forget it. FCM tokens are ~160 characters. */
  fcmToken: z.string().trim().min(1).max(4096).nullable(),
});

export interface RegisterDeviceResult {
  deviceId: string;
  registered: boolean;
}

/** Idempotent: the last call wins. Devices are per caller, so no ownership check beyond the uid. */
export async function registerDevice(request: CallableRequest, deps: EngineDeps): Promise<RegisterDeviceResult> {
  const uid = requireUid(request);
  const { deviceId, fcmToken } = parseInput(RegisterDeviceInput, request.data, 'registerDevice');
  await (deps.devices ?? new BlobDeviceRegistry(deps.blobs)).setToken(uid, deviceId, fcmToken);
  return { deviceId, registered: fcmToken !== null };
}
