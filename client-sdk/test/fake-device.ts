import type { DeviceState, DeviceStateSnapshot } from '../src/ports';

/** A device that meets every default constraint. */
export const HEALTHY_DEVICE: DeviceStateSnapshot = { network: 'wifi', batteryPercent: 80, charging: false, freeStorageBytes: 10e9 };

/** A device the test controls; `subscribe` only when asked, to cover both platform kinds. */
export class FakeDevice implements DeviceState {
  state: DeviceStateSnapshot;
  readonly listeners = new Set<(s: DeviceStateSnapshot) => void>();
  subscribe?: NonNullable<DeviceState['subscribe']>;
  constructor(initial: Partial<DeviceStateSnapshot> = {}, withSubscription = true) {
    this.state = { ...HEALTHY_DEVICE, ...initial };
    if (withSubscription) {
      this.subscribe = (listener) => {
        this.listeners.add(listener);
        return () => this.listeners.delete(listener);
      };
    }
  }
  async getState() { return { ...this.state }; }
  set(change: Partial<DeviceStateSnapshot>) {
    this.state = { ...this.state, ...change };
    for (const l of [...this.listeners]) l({ ...this.state });
  }
}

