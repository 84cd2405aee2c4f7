/**
 * Device constraints: whether the device may upload now, and waiting until it may. Pure checks
 * over a DeviceState snapshot, so they are tested without a device.
 */
import { abortedError } from './errors';
import type { DeviceState, DeviceStateSnapshot } from './ports';
import type { BackupOptions, PauseReason } from './types';

export interface Constraints {
  /** @default true, as the server's option default */
  wifiOnly: boolean;
  /** Met while charging. @default 20 */
  minBatteryPercent: number;
  /** @default false */
  requiresCharging: boolean;
  /** @default true */
  storageNotLow: boolean;
  /** What "low" means for storageNotLow. */
  minFreeStorageBytes: number;
}

/** 500 MB: below this a phone starts failing its own writes; a backup must not add to that. */
export const DEFAULT_MIN_FREE_STORAGE_BYTES = 500 * 1024 * 1024;

/** The constraints a backup's options ask for, with the server's defaults for what is left out. */
export function constraintsFor(options: BackupOptions = {}, minFreeStorageBytes = DEFAULT_MIN_FREE_STORAGE_BYTES): Constraints {
  return {
    wifiOnly: options.wifiOnly ?? true,
    minBatteryPercent: options.minBatteryPercent ?? 20,
    requiresCharging: options.requiresCharging ?? false,
    storageNotLow: options.storageNotLow ?? true,
    minFreeStorageBytes,
  };
}

/**
 * The first constraint the device breaks, as the pause reason the job will show, or null when it
 * may upload. Unknown readings (null) pass, except the network: with `wifiOnly` only a known
 * Wi-Fi (unmetered) connection will do.
 */
export function brokenConstraint(state: DeviceStateSnapshot, c: Constraints): PauseReason | null {
  if (c.wifiOnly && state.network !== 'wifi') return 'waiting_for_wifi';
  if (!c.wifiOnly && state.network === 'none') return 'waiting_for_wifi';
  if (c.requiresCharging && state.charging !== true) return 'battery_low';
  if (state.batteryPercent !== null && state.batteryPercent < c.minBatteryPercent && state.charging !== true) return 'battery_low';
  if (c.storageNotLow && state.freeStorageBytes !== null && state.freeStorageBytes < c.minFreeStorageBytes) return 'storage_low';
  return null;
}

export interface WaitOptions {
  /** Polling interval where the platform has no subscription. */
  pollMs: number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  signal?: AbortSignal;
}

/**
 * Resolves once the device meets the constraints: on each change the subscription reports where
 * the platform has one (checked against a fresh reading), by polling otherwise.
 */
export async function waitForConstraints(device: DeviceState, c: Constraints, options: WaitOptions): Promise<void> {
  if (brokenConstraint(await device.getState(), c) === null) return;
  if (options.signal?.aborted) throw abortedError();
  if (device.subscribe) {
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (err?: unknown) => {
        if (settled) return;
        settled = true;
        unsubscribe();
        options.signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve();
      };
      const onAbort = () => finish(abortedError());
      const unsubscribe = (device.subscribe as NonNullable<DeviceState['subscribe']>)((state) => {
        if (brokenConstraint(state, c) === null) finish();
      });
      options.signal?.addEventListener('abort', onAbort, { once: true });
      // A change may have landed between the first reading and subscribing.
      void device.getState().then((state) => { if (brokenConstraint(state, c) === null) finish(); }, finish);
    });
    return;
  }
  for (;;) {
    try {
      await options.sleep(options.pollMs, options.signal);
    } catch {
      throw abortedError();
    }
    if (brokenConstraint(await device.getState(), c) === null) return;
  }
}
