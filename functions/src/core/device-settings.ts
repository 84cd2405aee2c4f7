/**
 * The DeviceRegistry kept in the blob store, for runtimes without a document store of their own
 * for it (the embedded server): one small JSON object per device at
 * `settings/{uid}/devices/{deviceId}`, beside the retention policy, outside the namespace GC sweeps.
 */
import { z } from 'zod';
import type { BlobStore, CallOptions, DeviceRegistry } from '../ports';
import { readAll } from '../ports/blob-store';
import { hasCode, lifeboatError } from './errors';

const StoredDevice = z.object({ fcmToken: z.string().min(1) });

/** Device ids are free text (max 128): the key holds their base64url so any id is one path segment. */
function deviceKey(uid: string, deviceId: string): string {
  return `settings/${uid}/devices/${Buffer.from(deviceId, 'utf8').toString('base64url')}`;
}

/** {@link DeviceRegistry} over a BlobStore; see the module comment. */
export class BlobDeviceRegistry implements DeviceRegistry {
  constructor(private readonly blobs: BlobStore) {}

  async setToken(uid: string, deviceId: string, token: string | null, options: CallOptions = {}): Promise<void> {
    if (token === null) {
      await this.blobs.delete(deviceKey(uid, deviceId), options);
      return;
    }
    await this.blobs.put(deviceKey(uid, deviceId), new TextEncoder().encode(JSON.stringify({ fcmToken: token })), options);
  }

  async getToken(uid: string, deviceId: string, options: CallOptions = {}): Promise<string | null> {
    let bytes: Uint8Array;
    try {
      bytes = await readAll(await this.blobs.get(deviceKey(uid, deviceId), options));
    } catch (err) {
      if (hasCode(err, 'not-found')) return null;
      throw err;
    }
    const parsed = StoredDevice.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
    if (!parsed.success) throw lifeboatError('data-loss', `stored registration of device ${deviceId} is invalid`);
    return parsed.data.fcmToken;
  }
}
