/**
 * Platform ports: what the SDK's core needs from the platform besides HTTP (http.ts). Each
 * platform injects its own (Node defaults in `@lifeboat/client-sdk/node`; React Native and
 * browser adapters in client-sdk/README.md).
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

/**
 * Reads files piece by piece, so a file of any size is hashed and uploaded without ever being
 * held in memory whole. The SDK opens a file once to hash it and once more to upload the parts
 * the server is missing (more often if an upload is resumed); it reads only the range it needs.
 *
 * Contract:
 * - `open(path)` resolves with the file's size at that moment, or rejects (missing file: any
 *   error; the SDK reports it as `backup/not-found` with the path).
 * - `read(offset, length, into?)` resolves with exactly `length` bytes starting at `offset`
 *   (fewer only if the file ended early, which the SDK treats as the file having changed). With
 *   `into` (at least `length` bytes), the implementation may read into it and return a view of it:
 *   the SDK passes one scratch buffer per upload and reuses it only after the request that sent
 *   the previous piece has finished, which saves an allocation per piece. Without `into`, the
 *   returned array is the caller's and must not be reused by the implementation.
 * - `close()` releases the handle; the SDK calls it once, also after a failure.
 * - A file must not change between the hashing read and the upload read. If it does, the size
 *   check or the server's hash check refuses it (`backup/failed-precondition` or `backup/data-loss`).
 */
export interface FileSource {
  open(path: string): Promise<OpenedFile>;
}

/** One open file of a FileSource. */
export interface OpenedFile {
  /** Bytes in the file when it was opened. */
  readonly size: number;
  read(offset: number, length: number, into?: Uint8Array): Promise<Uint8Array>;
  close(): Promise<void>;
}
