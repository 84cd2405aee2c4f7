import { brokenConstraint, constraintsFor, DEFAULT_MIN_FREE_STORAGE_BYTES, waitForConstraints } from '../src/constraints';
import type { DeviceStateSnapshot } from '../src/ports';
import { FakeDevice, HEALTHY_DEVICE as ok } from './fake-device';

describe('constraints', () => {
  const defaults = constraintsFor();

  it('defaults follow the server: Wi-Fi only, battery 20 %, storage not low (500 MB)', () => {
    expect(defaults).toEqual({ wifiOnly: true, minBatteryPercent: 20, requiresCharging: false, storageNotLow: true, minFreeStorageBytes: DEFAULT_MIN_FREE_STORAGE_BYTES });
  });

  it.each([
    [{}, {}, null],
    [{ network: 'cellular' }, {}, 'waiting_for_wifi'],
    [{ network: 'unknown' }, {}, 'waiting_for_wifi'],
    [{ network: 'cellular' }, { wifiOnly: false }, null],
    [{ network: 'none' }, { wifiOnly: false }, 'waiting_for_wifi'],
    [{ batteryPercent: 19 }, {}, 'battery_low'],
    [{ batteryPercent: 19, charging: true }, {}, null],
    [{ batteryPercent: null }, {}, null],
    [{ charging: false }, { requiresCharging: true }, 'battery_low'],
    [{ charging: null }, { requiresCharging: true }, 'battery_low'],
    [{ charging: true }, { requiresCharging: true }, null],
    [{ freeStorageBytes: 100 }, {}, 'storage_low'],
    [{ freeStorageBytes: 100 }, { storageNotLow: false }, null],
  ] as const)('state %j with options %j -> %s', (state, options, reason) => {
    expect(brokenConstraint({ ...ok, ...state } as DeviceStateSnapshot, constraintsFor(options))).toBe(reason);
  });

  it('waits on the subscription until the constraint holds', async () => {
    const device = new FakeDevice({ network: 'cellular' });
    let done = false;
    const waiting = waitForConstraints(device, defaults, { pollMs: 1000, sleep: async () => { throw new Error('must not poll'); } }).then(() => { done = true; });
    await new Promise((r) => setImmediate(r));
    device.set({ network: 'wifi', batteryPercent: 5 }); // Wi-Fi back but battery low: still waiting
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    device.set({ charging: true });
    await waiting;
    expect(device.listeners.size).toBe(0);
  });

  it('polls where the platform has no subscription', async () => {
    const device = new FakeDevice({ batteryPercent: 10 }, false);
    const sleeps: number[] = [];
    await waitForConstraints(device, defaults, {
      pollMs: 5000,
      sleep: async (ms) => { sleeps.push(ms); if (sleeps.length === 3) device.set({ batteryPercent: 50 }); },
    });
    expect(sleeps).toEqual([5000, 5000, 5000]);
  });

  it('an abort ends the wait with backup/aborted', async () => {
    const device = new FakeDevice({ network: 'none' });
    const controller = new AbortController();
    const waiting = waitForConstraints(device, defaults, { pollMs: 1, sleep: async () => {}, signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'backup/aborted' });
  });
});
