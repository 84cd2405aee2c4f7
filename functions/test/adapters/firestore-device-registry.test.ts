/**
 * Device registration end to end on the Firebase side: `registerDevice` (the core handler) over
 * the Firestore DeviceRegistry on the recording fake writes the document the FCM notifier's
 * lookup reads, so the notifier then sends to that token; and the blob-settings registry the
 * embedded runtime falls back to.
 */
import type { Messaging } from 'firebase-admin/messaging';
import { FcmNotifier, firestoreTokenLookup } from '../../src/adapters/fcm-notifier';
import { FirestoreDeviceRegistry } from '../../src/adapters/firestore-device-registry';
import { registerDevice } from '../../src/core/api/register-device';
import { BlobDeviceRegistry } from '../../src/core/device-settings';
import { isLifeboatError } from '../../src/core/errors';
import { createHarness } from '../fakes/engine-harness';
import { FakeFirestore, grpcError } from './fake-firestore';

function recordingMessaging(): Messaging & { sent: Array<{ token: string }> } {
  const sent: Array<{ token: string }> = [];
  return { sent, send: async (message: { token: string }) => { sent.push(message); return 'id'; } } as unknown as Messaging & { sent: Array<{ token: string }> };
}

describe('registerDevice over FirestoreDeviceRegistry', () => {
  it('writes users/{uid}/devices/{deviceId}.fcmToken, which wakes the device through FcmNotifier', async () => {
    const db = new FakeFirestore();
    const h = createHarness();
    h.deps.devices = new FirestoreDeviceRegistry(db.asFirestore(), { now: () => 42 });
    db.docs.set('users/alice/devices/phone-1', { model: 'Pixel' });

    await expect(registerDevice({ auth: { uid: 'alice' }, data: { deviceId: 'phone-1', fcmToken: 'tok-1' } }, h.deps)).resolves.toEqual({ deviceId: 'phone-1', registered: true });
    // Merged: the app's own fields on the document survive.
    expect(db.docs.get('users/alice/devices/phone-1')).toEqual({ model: 'Pixel', uid: 'alice', deviceId: 'phone-1', fcmToken: 'tok-1', updatedAt: 42 });

    const messaging = recordingMessaging();
    const notifier = new FcmNotifier(messaging, firestoreTokenLookup(db.asFirestore()));
    await notifier.notifyDevice('alice', 'phone-1', { kind: 'backup-requested', jobId: 'j1' });
    expect(messaging.sent.map((m) => m.token)).toEqual(['tok-1']);

    await registerDevice({ auth: { uid: 'alice' }, data: { deviceId: 'phone-1', fcmToken: null } }, h.deps);
    expect(await h.deps.devices.getToken('alice', 'phone-1')).toBeNull();
    await notifier.notifyDevice('alice', 'phone-1', { kind: 'backup-requested', jobId: 'j2' });
    expect(messaging.sent).toHaveLength(1);
  });

  it('stores ids Firestore would refuse under their encoded document id, and only under the caller', async () => {
    const db = new FakeFirestore();
    const registry = new FirestoreDeviceRegistry(db.asFirestore());
    await registry.setToken('bob', 'a/b', 't');
    expect([...db.docs.keys()].every((path) => path.startsWith('users/bob/devices/~'))).toBe(true);
    expect(await registry.getToken('bob', 'a/b')).toBe('t');
    expect(await registry.getToken('alice', 'a/b')).toBeNull();
  });

  it('refuses bad input and anonymous calls before writing', async () => {
    const db = new FakeFirestore();
    const h = createHarness();
    h.deps.devices = new FirestoreDeviceRegistry(db.asFirestore());
    for (const data of [{}, { deviceId: '', fcmToken: 't' }, { deviceId: 'p', fcmToken: '' }, { deviceId: 'p' }, { deviceId: 'p', fcmToken: 't', extra: 1 }, { deviceId: 'x'.repeat(129), fcmToken: 't' }]) {
      await expect(registerDevice({ auth: { uid: 'alice' }, data }, h.deps)).rejects.toMatchObject({ code: 'invalid-argument' });
    }
    await expect(registerDevice({ auth: null, data: { deviceId: 'p', fcmToken: 't' } }, h.deps)).rejects.toMatchObject({ code: 'unauthenticated' });
    expect(db.docs.size).toBe(0);
  });

  it('maps SDK errors to coded errors', async () => {
    const db = new FakeFirestore();
    db.failNext = grpcError(14, 'UNAVAILABLE');
    const err = await new FirestoreDeviceRegistry(db.asFirestore()).setToken('u', 'p', 't').catch((e: unknown) => e);
    expect(isLifeboatError(err) && [err.code, err.retryable]).toEqual(['unavailable', true]);
  });
});

describe('BlobDeviceRegistry (the default without a registry)', () => {
  it('registerDevice stores, replaces and forgets a token per user and device', async () => {
    const h = createHarness();
    const registry = new BlobDeviceRegistry(h.blobs);
    await h.call('registerDevice', 'alice', { deviceId: 'phone/1', fcmToken: 't1' });
    await h.call('registerDevice', 'alice', { deviceId: 'phone/1', fcmToken: 't2' });
    expect(await registry.getToken('alice', 'phone/1')).toBe('t2');
    expect(await registry.getToken('bob', 'phone/1')).toBeNull();
    await expect(h.call('registerDevice', 'alice', { deviceId: 'phone/1', fcmToken: null })).resolves.toEqual({ deviceId: 'phone/1', registered: false });
    expect(await registry.getToken('alice', 'phone/1')).toBeNull();
  });
});
