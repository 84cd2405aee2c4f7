/**
 * Restore downloads, embedded: `GET /download/{token}` answers one blob's plaintext (decrypted,
 * decompressed and hash-checked by the content store: the bytes `lifeboat restore` writes from)
 * to whoever holds an unexpired token for it. Tokens (`core/download-token.ts`) are the same as
 * the Firebase `downloadBlob` function's: `lbd1.<payload>.<signature>`, the payload base64url JSON
 * `{uid, blob, exp}` signed with HMAC-SHA256 under a key derived from the runtime's secret, so a
 * download token is never a bearer token and the other way round.
 */
import type { ServerResponse } from 'node:http';
import { contentStoreOf, createDownloadToken, hasCode, sendDownloadError, sendPlaintext, verifyDownloadToken, type EngineDeps } from '@lifeboat/functions/core';
import type { Clock, DownloadLinks } from '@lifeboat/functions/ports';

/** The embedded `DownloadLinks`: URLs to this server's download route. */
export function embeddedDownloadLinks(secret: string, baseUrl: () => string): DownloadLinks {
  return {
    async link({ uid, blob, expiresAt }) {
      return `${baseUrl()}/download/${createDownloadToken(secret, { uid, blob, exp: expiresAt })}`;
    },
  };
}

/** Serves `GET /download/{token}`: 403 for a bad or expired token, 404 for a missing blob, 500 `data-loss` for a damaged one. */
export async function serveDownload(deps: EngineDeps, secret: string, clock: Clock, token: string, res: ServerResponse): Promise<void> {
  const claims = verifyDownloadToken(secret, token, clock.now());
  if (!claims) return sendDownloadError(res, 403, 'permission-denied', 'the download link is invalid or expired');
  let bytes: Uint8Array;
  try {
    bytes = await contentStoreOf(deps).get(claims.uid, claims.blob);
  } catch (err) {
    if (hasCode(err, 'not-found')) return sendDownloadError(res, 404, 'not-found', `blob ${claims.blob} is missing`);
    // Damage in storage: the device fails this blob's items and restores the rest.
    if (hasCode(err, 'data-loss')) return sendDownloadError(res, 500, 'data-loss', `blob ${claims.blob} is damaged`);
    throw err;
  }
  await sendPlaintext(res, claims.blob, bytes);
}
