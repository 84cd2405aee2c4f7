/**
 * Idempotency keys: the SDK makes one before a creating call's first attempt (`createBackupJob`'s
 * `jobId`, `setSchedule`'s `scheduleId`) and sends it on every retry, so a retry whose first
 * answer was lost finds what the first attempt created instead of creating a second
 * (docs/invariants.md, "Idempotency"). Drawn from Web Crypto where the platform has it (browsers,
 * Node, React Native with a `getRandomValues` polyfill), else from `Math.random`: a key names the
 * caller's own work, so it must be unique, not secret.
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** 20 letters and digits (about 118 bits): a valid job id and schedule id. */
export function newIdempotencyKey(): string {
  const bytes = new Uint8Array(20);
  const crypto = (globalThis as { crypto?: { getRandomValues?: (array: Uint8Array) => Uint8Array } }).crypto;
  if (crypto?.getRandomValues) crypto.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  // byte % 62 favours the first 8 letters a little (5 chances in 256 against 4): no matter for a
  // key that must only be unique.
  let key = '';
  for (const byte of bytes) key += ALPHABET[byte % ALPHABET.length];
  return key;
}
