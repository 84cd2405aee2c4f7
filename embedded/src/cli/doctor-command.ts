/**
 * `lifeboat doctor --project P`: the deployment preflight (doctor/checks.ts) as a command. It
 * prints every item, grouped by area, as ok / MISSING / warning / UNCHECKED with the command that
 * fixes it, and exits 1 when anything is missing or could not be checked.
 */
import { resolve } from 'node:path';
import { runDoctor, type CheckItem, type CheckStatus, type DoctorReport } from '../doctor/checks';
import { readDeployment, type DeploymentOverrides } from '../doctor/deployment';
import type { GoogleApi } from '../doctor/google-api';
import { REQUIREMENTS, type Requirements } from '../doctor/requirements';
import { requiredOption, stringOption, type CommandInput, type CommandResult } from './command';
import { EXIT } from './spec';

export interface DoctorDeps {
  /** The Google APIs for a project (ADC in the CLI, recorded responses in tests). */
  api(project: string): GoogleApi;
  /** @default REQUIREMENTS */
  requirements?: Requirements;
}

const LABEL: Record<CheckStatus, string> = { ok: 'ok', missing: 'MISSING', warning: 'warning', unchecked: 'UNCHECKED' };

function itemLines(item: CheckItem): string[] {
  const lines = [`  ${LABEL[item.status].padEnd(9)} ${item.name}: ${item.detail}`];
  if (item.fix) lines.push(`            fix: ${item.fix}`);
  return lines;
}

/** The report as text: a header, the items by area, a summary line. */
export function doctorText(report: DoctorReport, envFiles: readonly string[]): string {
  const count = (status: CheckStatus) => report.items.filter((i) => i.status === status).length;
  const areas = [...new Set(report.items.map((i) => i.area))];
  return [
    `lifeboat doctor: project ${report.project}, region ${report.region}${envFiles.length > 0 ? ` (from ${envFiles.join(', ')})` : ''}`,
    `runtime service account: ${report.serviceAccount ?? '(unknown)'}`,
    ...areas.flatMap((area) => ['', area, ...report.items.filter((i) => i.area === area).flatMap(itemLines)]),
    '',
    `${count('ok')} ok, ${count('missing')} missing, ${count('warning')} warning(s), ${count('unchecked')} unchecked: ${report.ok ? 'ready' : 'NOT ready (fix the MISSING and UNCHECKED items above)'}`,
    '',
  ].join('\n');
}

export async function doctorCommand(input: CommandInput, deps: DoctorDeps): Promise<CommandResult> {
  const project = requiredOption(input, 'project', 'doctor');
  const overrides: DeploymentOverrides = {};
  const pick = (option: string, key: keyof DeploymentOverrides) => {
    const value = stringOption(input, option);
    if (value !== undefined) overrides[key] = value;
  };
  pick('region', 'region');
  pick('database', 'database');
  pick('blobs-bucket', 'blobsBucket');
  pick('uploads-bucket', 'uploadsBucket');
  pick('service-account', 'serviceAccount');
  pick('events-channel', 'eventsChannel');
  const functionsDir = resolve(stringOption(input, 'functions') ?? 'functions');
  const deployment = readDeployment(project, functionsDir, overrides);
  const report = await runDoctor(deployment, deps.requirements ?? REQUIREMENTS, { api: deps.api(project) });
  return { exitCode: report.ok ? EXIT.ok : EXIT.failure, data: { ...report, envFiles: deployment.envFiles }, text: doctorText(report, deployment.envFiles) };
}
