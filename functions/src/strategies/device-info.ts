/**
 * Device info: one JSON object per chunk, validated and stored per snapshot as canonical JSON.
 */
import { z } from 'zod';
import type { ManifestItem } from '../core/model';
import { RECORD_LIMITS } from '../core/record-limits';
import { boundedReason, canonicalJson, decodeUtf8, parseRecord, type Strategy } from './strategy';

const bytesCount = z.number().int().nonnegative();

/** Known fields are checked; unknown ones are kept, so newer apps can send more. */
export const DeviceInfo = z.looseObject({
  model: z.string().min(1).max(200),
  os: z.string().min(1).max(50),
  osVersion: z.string().min(1).max(50),
  appVersion: z.string().min(1).max(50),
  locale: z.string().min(2).max(35),
  manufacturer: z.string().max(200).optional(),
  timeZone: z.string().max(64).optional(),
  freeStorageBytes: bytesCount.optional(),
  totalStorageBytes: bytesCount.optional(),
  batteryPercent: z.number().min(0).max(100).optional(),
});
export type DeviceInfo = z.infer<typeof DeviceInfo>;

export const deviceInfoStrategy: Strategy = {
  type: 'deviceInfo',
  strategyKey: () => 'v1',
  async processChunk(bytes, { uid, content, signal }) {
    const base = { type: 'deviceInfo' as const, sourceId: 'deviceInfo', originalSize: bytes.byteLength };
    const skip = (reason: string): ManifestItem[] => [
      { ...base, blob: null, storedSize: 0, transforms: [], skipReason: boundedReason(reason) },
    ];
    // Too large is refused before it is decoded (core/record-limits.ts).
    const text = bytes.byteLength > RECORD_LIMITS.maxRecordBytes ? '' : decodeUtf8(bytes);
    if (text === null) return skip('device info is not valid UTF-8');
    const record = parseRecord(text, bytes.byteLength);
    if (!record.ok) {
      if (record.kind === 'not-json') return skip(`device info is not JSON: ${record.detail ?? ''}`);
      return skip(record.kind === 'device-skipped' ? record.reason : `device info is invalid: ${record.reason}`);
    }
    const parsed = DeviceInfo.safeParse(record.value);
    if (!parsed.success) return skip(`device info is invalid: ${z.prettifyError(parsed.error)}`);
    const canonical = new TextEncoder().encode(canonicalJson(parsed.data));
    const stored = await content.put(uid, canonical, signal ? { signal } : {});
    return [{ ...base, blob: stored.hash, blobSize: stored.size, storedSize: stored.storedSize, transforms: ['validated', 'canonical-json'] }];
  },
};
