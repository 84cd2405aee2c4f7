/**
 * The DeviceRegistry kept in the blob store, for runtimes without a document store of their own
 * for it (the embedded server): one small JSON object per device at
 * `settings/{uid}/devices/{deviceId}`, beside the retention policy, outside the namespace GC sweeps.
 */
import { z } from 'zod';
import type { BlobStore, CallOptions, DeviceRegistry } from '../ports';
import { encodeStoredJson, readStoredJson, settingsKey } from './stored-json';

const StoredDevice = z.object({ fcmToken: z.string().min(1) });

/** Device ids are free text (max 128): the key holds their base64url so any id is one path segment. */
function deviceKey(uid: string, deviceId: string): string {
  return settingsKey(uid, `devices/${Buffer.from(deviceId, 'utf8').toString('base64url')}`);
}

/** {@link DeviceRegistry} over a BlobStore; see the module comment. */
export class BlobDeviceRegistry implements DeviceRegistry {
  constructor(private readonly blobs: BlobStore) {}

  async setToken(uid: string, deviceId: string, token: string | null, options: CallOptions = {}): Promise<void> {
    if (token === null) {
      await this.blobs.delete(deviceKey(uid, deviceId), options);
      return;
    }
    await this.blobs.put(deviceKey(uid, deviceId), encodeStoredJson({ fcmToken: token }), options);
  }

  async getToken(uid: string, deviceId: string, options: CallOptions = {}): Promise<string | null> {
    const stored = await readStoredJson(this.blobs, deviceKey(uid, deviceId), StoredDevice, `stored registration of device ${deviceId} is invalid`, options);
    return stored?.fcmToken ?? null;
  }

  async forgetUser(uid: string, options: CallOptions = {}): Promise<number> {
    let removed = 0;
    for await (const info of this.blobs.list(settingsKey(uid, 'devices/'), options)) {
      await this.blobs.delete(info.key, options);
      removed += 1;
    }
    return removed;
  }
}
