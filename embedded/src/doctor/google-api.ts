/**
 * How `lifeboat doctor` talks to Google: plain REST calls on the Google Cloud APIs, as JSON. The
 * port is this small on purpose, so the doctor runs against recorded API responses in tests (the
 * network to Google is not reachable there) and against the real APIs with Application Default
 * Credentials (`gcloud auth application-default login`, or a service account key in
 * GOOGLE_APPLICATION_CREDENTIALS) everywhere else.
 */
import { GoogleAuth } from 'google-auth-library';
import { lifeboatError, messageOf } from '@lifeboat/engine/core';
import type { CallOptions } from '@lifeboat/engine/ports';

/** One answer of a Google API: its HTTP status and its JSON body (`{}` when it had none). */
export interface GoogleApiResponse {
  status: number;
  body: unknown;
}

/**
 * REST access to the Google Cloud APIs.
 *
 * Contract: resolves with the response whatever its status (a 404 or 403 is an answer the doctor
 * reads: a missing bucket, a disabled API); rejects with a coded LifeboatError only when no answer
 * came (`unavailable`: network; `unauthenticated`: no credentials).
 */
export interface GoogleApi {
  request(method: 'GET' | 'POST', url: string, options?: CallOptions & { body?: unknown }): Promise<GoogleApiResponse>;
}

/** The message of a Google API error body (`{error: {code, message, status}}`), or the status. */
export function apiErrorMessage(response: GoogleApiResponse): string {
  const error = (response.body as { error?: { message?: unknown; status?: unknown } } | null)?.error;
  return typeof error?.message === 'string' ? error.message : `HTTP ${response.status}`;
}

/**
 * The Google APIs with Application Default Credentials. `quotaProject` is sent as
 * `x-goog-user-project`, which some APIs (Service Usage) need with user credentials.
 *
 * @throws (from `request`) LifeboatError `unauthenticated` when there are no usable credentials,
 *   `unavailable` when Google cannot be reached.
 */
export function adcGoogleApi(quotaProject: string, fetcher: typeof fetch = fetch): GoogleApi {
  const auth = new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] });
  let token: Promise<string> | null = null;
  const accessToken = (): Promise<string> => {
    token ??= auth.getAccessToken().then(
      (value) => {
        if (!value) throw lifeboatError('unauthenticated', 'Application Default Credentials gave no access token: run `gcloud auth application-default login`');
        return value;
      },
      (err: unknown) => {
        throw lifeboatError('unauthenticated', `no Application Default Credentials (${messageOf(err)}): run \`gcloud auth application-default login\` or set GOOGLE_APPLICATION_CREDENTIALS`, { cause: err });
      },
    );
    return token;
  };
  return {
    async request(method, url, options = {}) {
      const headers: Record<string, string> = { authorization: `Bearer ${await accessToken()}`, 'x-goog-user-project': quotaProject };
      if (options.body !== undefined) headers['content-type'] = 'application/json';
      let response: Response;
      try {
        response = await fetcher(url, {
          method,
          headers,
          ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
          signal: options.signal ?? AbortSignal.timeout(30_000),
        });
      } catch (err) {
        throw lifeboatError('unavailable', `cannot reach ${new URL(url).host}: ${messageOf(err)}`, { cause: err });
      }
      const text = await response.text();
      let body: unknown = {};
      try {
        body = text ? JSON.parse(text) : {};
      } catch {
        body = { error: { message: text.slice(0, 300) } };
      }
      return { status: response.status, body };
    },
  };
}
