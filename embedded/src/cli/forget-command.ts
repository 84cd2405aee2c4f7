/**
 * `lifeboat forget --uid U [--dry-run]`: the user's retention policy (their own, else the
 * default) applied through `applyUserRetention`, as finalize applies it: per device and backup
 * type. Prints what is kept, with why, and what is (or would be) forgotten.
 */
import { applyUserRetention, effectiveRetentionPolicy, type RetentionPolicy, type Snapshot } from '@lifeboat/engine/core';
import { flag, requiredOption, type CommandHandler } from './command';
import { EXIT } from './spec';

export interface ForgetReport {
  uid: string;
  dryRun: boolean;
  policy: RetentionPolicy;
  /** True when the user has no policy of their own. */
  isDefault: boolean;
  keep: Array<SnapshotRef & { reasons: string[] }>;
  forget: SnapshotRef[];
}

interface SnapshotRef {
  id: string;
  createdAt: number;
  deviceId: string;
  types: Snapshot['types'];
}

const ref = (s: Snapshot): SnapshotRef => ({ id: s.id, createdAt: s.createdAt, deviceId: s.deviceId, types: s.types });
const line = (s: SnapshotRef) => `${s.id}  ${new Date(s.createdAt).toISOString()}  ${s.deviceId}  ${s.types.join(',')}`;

export const forgetCommand: CommandHandler = async (input, { data }) => {
  const uid = requiredOption(input, 'uid', 'forget');
  const dryRun = flag(input, 'dry-run');
  const deps = { store: data.store, blobs: data.blobs };
  const { policy, isDefault } = await effectiveRetentionPolicy(deps, uid);
  const plan = await applyUserRetention(deps, uid, { dryRun });
  const report: ForgetReport = {
    uid,
    dryRun,
    policy,
    isDefault,
    keep: plan.keep.map(({ snapshot, reasons }) => ({ ...ref(snapshot), reasons })),
    forget: plan.forget.map(ref),
  };
  const lines = [
    `policy of ${uid}: keep last ${policy.keepLast}, daily ${policy.keepDaily}, weekly ${policy.keepWeekly}, monthly ${policy.keepMonthly}, per device and type${isDefault ? ' (the default)' : ''}`,
    `keep ${report.keep.length} snapshot(s):`,
    ...report.keep.map((k) => `  ${line(k)}  ${k.reasons.join('; ')}`),
    `${dryRun ? 'would forget' : 'forgot'} ${report.forget.length} snapshot(s)${report.forget.length > 0 ? ':' : ''}`,
    ...report.forget.map((f) => `  ${line(f)}`),
  ];
  if (dryRun) lines.push('dry run: nothing was forgotten');
  else if (report.forget.length > 0) lines.push(`their data is freed by the next gc (lifeboat gc --uid ${uid})`);
  return { exitCode: EXIT.ok, data: report, text: `${lines.join('\n')}\n` };
};
