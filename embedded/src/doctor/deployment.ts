/**
 * The deployment `lifeboat doctor` checks: the project, and the values the functions will deploy
 * with, read the way `firebase deploy` reads them (`functions/.env`, then
 * `functions/.env.<project>` over it), then the command's own options over both.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lifeboatError } from '@lifeboat/engine/core';

export interface Deployment {
  project: string;
  region: string;
  /** Lifeboat's named database. */
  database: string;
  blobsBucket: string;
  uploadsBucket: string;
  /** The app's database the chat source reads, when `chatMessagesPath` is set. */
  chatDatabase: string;
  chatMessagesPath: string;
  chatParticipantsField: string;
  /** Eventarc channel of lifecycle events; empty for none. */
  eventsChannel: string;
  /** The functions' runtime service account; empty for the default compute account. */
  serviceAccount: string;
  /** The `.env` files read, for the report. */
  envFiles: string[];
}

/** The command line's overrides (`--region`, `--service-account`, ...). */
export type DeploymentOverrides = Partial<Pick<Deployment, 'region' | 'database' | 'blobsBucket' | 'uploadsBucket' | 'eventsChannel' | 'serviceAccount'>>;

/** `KEY=value` lines of a dotenv file; comments and blank lines skipped, surrounding quotes removed. */
export function parseDotEnv(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!match?.[1] || line.trim().startsWith('#')) continue;
    values[match[1]] = (match[2] ?? '').replace(/^(['"])(.*)\1$/, '$2');
  }
  return values;
}

/**
 * The deployment of `project` from the functions folder's `.env` files and the overrides.
 *
 * @throws LifeboatError `invalid-argument` for a project id Google would refuse.
 */
export function readDeployment(project: string, functionsDir: string, overrides: DeploymentOverrides = {}): Deployment {
  if (!/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(project)) throw lifeboatError('invalid-argument', `--project ${JSON.stringify(project)} is not a Google Cloud project id`);
  const envFiles: string[] = [];
  let env: Record<string, string> = {};
  for (const name of ['.env', `.env.${project}`]) {
    const path = join(functionsDir, name);
    if (!existsSync(path)) continue;
    envFiles.push(path);
    env = { ...env, ...parseDotEnv(readFileSync(path, 'utf8')) };
  }
  const value = (key: string, fallback: string) => (env[key] ?? '').trim() || fallback;
  return {
    project,
    region: overrides.region ?? value('LIFEBOAT_REGION', 'us-central1'),
    database: overrides.database ?? value('LIFEBOAT_DATABASE', 'lifeboat'),
    blobsBucket: overrides.blobsBucket ?? value('LIFEBOAT_BLOBS_BUCKET', ''),
    uploadsBucket: overrides.uploadsBucket ?? value('LIFEBOAT_UPLOADS_BUCKET', ''),
    chatDatabase: value('LIFEBOAT_CHAT_DATABASE', '(default)'),
    chatMessagesPath: value('LIFEBOAT_CHAT_MESSAGES_PATH', ''),
    chatParticipantsField: value('LIFEBOAT_CHAT_PARTICIPANTS_FIELD', 'participants'),
    eventsChannel: overrides.eventsChannel ?? value('LIFEBOAT_EVENTS_CHANNEL', ''),
    serviceAccount: overrides.serviceAccount ?? '',
    envFiles,
  };
}
