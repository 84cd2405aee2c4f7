/** `registerDevice`: a device reports (or withdraws) its push token, so scheduled backups can wake it. */
import { RegisterDeviceInput, type RegisterDeviceResult } from '@lifeboat/protocol';
import { BlobDeviceRegistry } from '../device-settings';
import type { EngineDeps } from '../deps';
import { parseInput, requireUid, type CallableRequest } from './callable';

/** Idempotent: the last call wins. Devices are per caller, so no ownership check beyond the uid. */
export async function registerDevice(request: CallableRequest, deps: EngineDeps): Promise<RegisterDeviceResult> {
  const uid = requireUid(request);
  const { deviceId, fcmToken } = parseInput(RegisterDeviceInput, request.data, 'registerDevice');
  await (deps.devices ?? new BlobDeviceRegistry(deps.blobs)).setToken(uid, deviceId, fcmToken);
  return { deviceId, registered: fcmToken !== null };
}
