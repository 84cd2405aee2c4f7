import type { SnapshotVerification } from './documents';
import type { VerifyReport } from './results';

/**
 * The report a finished verify record stands for: what the server answers once its rounds are done
 * and what the SDK gives back after polling the record, so both read a record the same way.
 */
export function reportOfRecord(snapshotId: string, record: SnapshotVerification): VerifyReport {
  return {
    snapshotId,
    ok: record.problemCount === 0,
    checkedAt: record.startedAt,
    totalBlobs: record.totalBlobs,
    checkedBlobs: record.checkedBlobs,
    checkedItems: record.checkedItems,
    problems: record.problems.map((p) => ({
      kind: p.kind,
      blob: p.blob,
      items: p.items.map((i) => ({ type: i.type, sourceId: i.sourceId })),
      ...(p.itemCount !== undefined ? { itemCount: p.itemCount } : {}),
      message: p.message,
    })),
    problemCount: record.problemCount,
    ...(record.manifestDamaged ? { manifestDamaged: true as const } : {}),
  };
}
