/**
 * The real project `npm run test:live` runs against: LIFEBOAT_LIVE_PROJECT, with Application
 * Default Credentials, and the deployment's own settings read as `firebase deploy` reads them
 * (functions/.env, then functions/.env.PROJECT). Absent, every live suite skips and says so;
 * `npm run test:live` itself then exits non-zero, so a run without a project never passes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LiveProject {
  project: string;
  region: string;
  database: string;
  blobsBucket: string;
  uploadsBucket: string;
}

function dotEnv(path: string): Record<string, string> {
  if (!existsSync(path)) return {};
  const values: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split(/\r?\n/)) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (match?.[1] && !line.trim().startsWith('#')) values[match[1]] = (match[2] ?? '').replace(/^(['"])(.*)\1$/, '$2');
  }
  return values;
}

/** The live project, or null (with the reason) when this run has none. */
export function liveProject(env: NodeJS.ProcessEnv = process.env): LiveProject | { skipped: string } {
  const project = env['LIFEBOAT_LIVE_PROJECT'];
  if (!project) return { skipped: 'LIFEBOAT_LIVE_PROJECT is not set' };
  const functionsDir = join(__dirname, '..', '..');
  const values = { ...dotEnv(join(functionsDir, '.env')), ...dotEnv(join(functionsDir, `.env.${project}`)) };
  const pick = (name: string, fallback = '') => env[name] || values[name] || fallback;
  const blobsBucket = pick('LIFEBOAT_BLOBS_BUCKET');
  const uploadsBucket = pick('LIFEBOAT_UPLOADS_BUCKET');
  if (!blobsBucket || !uploadsBucket || blobsBucket.startsWith('demo-')) return { skipped: `no buckets for ${project}: set LIFEBOAT_BLOBS_BUCKET and LIFEBOAT_UPLOADS_BUCKET in functions/.env.${project}` };
  return { project, region: pick('LIFEBOAT_REGION', 'us-central1'), database: pick('LIFEBOAT_DATABASE', 'lifeboat'), blobsBucket, uploadsBucket };
}

/** `describe` when there is a live project, else one skipped test that says why. */
export function describeLive(title: string, body: (live: LiveProject) => void): void {
  const live = liveProject();
  if ('skipped' in live && process.env['LIFEBOAT_LIVE_PROJECT']) {
    // Asked to run live but not set up for it: a failure, never a silent pass.
    describe(title, () => {
      it('has a live project set up', () => {
        throw new Error(`live suite cannot run: ${live.skipped}`);
      });
    });
    return;
  }
  if ('skipped' in live) {
    console.warn(`live suite "${title}" SKIPPED: ${live.skipped} (npm run test:live)`);
    describe(title, () => {
      it.skip(`SKIPPED: ${live.skipped}`, () => undefined);
    });
    return;
  }
  describe(`${title} (project ${live.project})`, () => body(live));
}
