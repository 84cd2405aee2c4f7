/**
 * Platform ports the SDK will use for constraint checks and its persisted ledger (the SDK issue).
 * Declared now so apps can wire them; this first cut accepts them and does not use them yet.
 */
export interface DeviceStateSnapshot {
  network: 'none' | 'wifi' | 'cellular' | 'unknown';
  batteryPercent: number | null;
  charging: boolean | null;
  freeStorageBytes: number | null;
}

export interface DeviceState {
  getState(): Promise<DeviceStateSnapshot>;
  /** Calls `listener` on every change; returns the unsubscribe function. Optional: else polled. */
  subscribe?(listener: (state: DeviceStateSnapshot) => void): () => void;
}

/** AsyncStorage-like persistent strings. */
export interface KeyValueStore {
  getItem(key: string): Promise<string | null>;
  setItem(key: string, value: string): Promise<void>;
  removeItem(key: string): Promise<void>;
}
