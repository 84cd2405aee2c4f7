/**
 * Restore download links on Firebase: `{base}/{token}` for the `downloadBlob` function, with the
 * embedded server's tokens (core/download-token.ts) signed under a key derived from the master key
 * secret, so no other secret needs managing and a rotation only ends the links in flight (they
 * live minutes). The production runtime hands the links out; the function checks the tokens.
 */
import { createDownloadToken } from '../../core';
import { lifeboatError } from '../../core/errors';
import type { DownloadLinks } from '../../ports';
import { DOWNLOAD_URL, MASTER_KEY, REGION } from '../config/params';

/** Name of the exported function; the links point at it. */
export const DOWNLOAD_FUNCTION_NAME = 'downloadBlob';

/**
 * The token-signing secret: the current master key as configured (the first of the
 * comma-separated list). Derived again with its own label by core/download-token.ts.
 *
 * @throws LifeboatError `failed-precondition` when the secret is empty.
 */
export function downloadSecret(masterKeySecret: string = MASTER_KEY.value()): string {
  const current = masterKeySecret.split(',').map((k) => k.trim()).find(Boolean);
  if (!current) throw lifeboatError('failed-precondition', 'the LIFEBOAT_MASTER_KEY secret is empty: download links cannot be signed');
  return current;
}

/**
 * The `downloadBlob` function's base URL: the `LIFEBOAT_DOWNLOAD_URL` param, else the function's
 * cloudfunctions.net URL in `LIFEBOAT_REGION` of the running project.
 *
 * @throws LifeboatError `failed-precondition` when neither the param nor the project id is known.
 */
export function downloadBaseUrl(configured: string = DOWNLOAD_URL.value(), region: string = REGION.value(), env: NodeJS.ProcessEnv = process.env): string {
  if (configured.trim()) return configured.trim().replace(/\/+$/, '');
  const project = env['GCLOUD_PROJECT'] ?? env['GOOGLE_CLOUD_PROJECT'];
  if (!project) throw lifeboatError('failed-precondition', 'no project id (GCLOUD_PROJECT) to build download links from; set LIFEBOAT_DOWNLOAD_URL');
  return `https://${region}-${project}.cloudfunctions.net/${DOWNLOAD_FUNCTION_NAME}`;
}

/** The production `DownloadLinks`: `{baseUrl}/{token}` for the `downloadBlob` function. */
export function functionDownloadLinks(secret: () => string, baseUrl: () => string): DownloadLinks {
  return {
    async link({ uid, blob, expiresAt }) {
      return `${baseUrl()}/${createDownloadToken(secret(), { uid, blob, exp: expiresAt })}`;
    },
  };
}
