/**
 * The DeviceRegistry on Firestore: `{root}/users/{uid}/devices/{deviceId}` with `fcmToken`, the
 * document `firestoreTokenLookup` reads for the FCM notifier. A merge-set, so whatever else the
 * app keeps on the document survives; withdrawing a token writes `fcmToken: null`.
 */
import type { Firestore } from '@google-cloud/firestore';
import { throwIfAborted, type CallOptions, type DeviceRegistry } from '../ports';
import { toLifeboatError } from './adapter-errors';
import { FirestoreLayout } from './firestore-layout';

export class FirestoreDeviceRegistry implements DeviceRegistry {
  private readonly layout: FirestoreLayout;

  /** @param options.root document path the layout lives under. @default none */
  constructor(
    private readonly db: Firestore,
    options: { root?: string; now?: () => number } = {},
  ) {
    this.layout = new FirestoreLayout(options.root);
    this.now = options.now ?? Date.now;
  }

  private readonly now: () => number;

  async setToken(uid: string, deviceId: string, token: string | null, options: CallOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
    try {
      await this.db.doc(this.layout.device(uid, deviceId)).set({ uid, deviceId, fcmToken: token, updatedAt: this.now() }, { merge: true });
    } catch (err) {
      throw toLifeboatError(err, `register device ${deviceId}`);
    }
  }

  /** Every document under `users/{uid}/devices` (users have few devices: one batch of at most 500 per round). */
  async forgetUser(uid: string, options: CallOptions = {}): Promise<number> {
    let removed = 0;
    try {
      for (;;) {
        throwIfAborted(options.signal);
        const page = await this.db.collection(this.layout.devices(uid)).select().limit(500).get();
        if (page.docs.length === 0) return removed;
        const batch = this.db.batch();
        for (const doc of page.docs) batch.delete(doc.ref);
        await batch.commit();
        removed += page.docs.length;
      }
    } catch (err) {
      throw toLifeboatError(err, `forget the devices of ${uid}`);
    }
  }

  async getToken(uid: string, deviceId: string, options: CallOptions = {}): Promise<string | null> {
    throwIfAborted(options.signal);
    try {
      const token: unknown = (await this.db.doc(this.layout.device(uid, deviceId)).get()).get('fcmToken');
      return typeof token === 'string' && token.length > 0 ? token : null;
    } catch (err) {
      throw toLifeboatError(err, `look up device ${deviceId}`);
    }
  }
}
