/**
 * Restore downloads, embedded: `GET /download/{token}` answers one blob's plaintext (decrypted,
 * decompressed and hash-checked by the content store: the bytes `lifeboat restore` writes from)
 * to whoever holds an unexpired token for it. Tokens (`core/download-token.ts`) are the same as
 * the Firebase `downloadBlob` function's: `lbd1.<payload>.<signature>`, the payload base64url JSON
 * `{uid, blob, exp}` signed with HMAC-SHA256 under a key derived from the runtime's secret, so a
 * download token is never a bearer token and the other way round.
 */
import type { ServerResponse } from 'node:http';
import { contentStoreOf, createDownloadToken, hasCode, messageOf, sendDownloadError, sendPlaintext, verifyDownloadToken, type EngineDeps, type PlaintextOutcome } from '@lifeboat/engine/core';
import type { Clock, DownloadLinks } from '@lifeboat/engine/ports';

/** The embedded `DownloadLinks`: URLs to this server's download route. */
export function embeddedDownloadLinks(secret: string, baseUrl: () => string): DownloadLinks {
  return {
    async link({ uid, blob, expiresAt }) {
      return `${baseUrl()}/download/${createDownloadToken(secret, { uid, blob, exp: expiresAt })}`;
    },
  };
}

/**
 * Serves `GET /download/{token}`: 403 for a bad or expired token, 404 for a missing blob, 500
 * `data-loss` for one found damaged before the body starts (the device fails that blob's items and
 * restores the rest), the plaintext streamed otherwise (core/plaintext-download.ts). Other errors
 * before the body starts are thrown (the server answers them); one after it has started cuts the
 * response off and is logged.
 */
export async function serveDownload(deps: EngineDeps, secret: string, clock: Clock, token: string, res: ServerResponse): Promise<void> {
  const claims = verifyDownloadToken(secret, token, clock.now());
  if (!claims) return sendDownloadError(res, 403, 'permission-denied', 'the download link is invalid or expired');
  let outcome: PlaintextOutcome;
  try {
    outcome = await sendPlaintext(res, claims.blob, await contentStoreOf(deps).getStream(claims.uid, claims.blob));
  } catch (err) {
    if (hasCode(err, 'not-found')) return sendDownloadError(res, 404, 'not-found', `blob ${claims.blob} is missing`);
    if (hasCode(err, 'data-loss') && !res.headersSent) return sendDownloadError(res, 500, 'data-loss', `blob ${claims.blob} is damaged`);
    throw err;
  }
  if (outcome.sent === 'cut-off') deps.logger.error('download failed part way; the response was cut off', { uid: claims.uid, blob: claims.blob, error: messageOf(outcome.error) });
}
