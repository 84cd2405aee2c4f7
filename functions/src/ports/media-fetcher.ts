import type { CallOptions } from './common';

/** A file a chat message refers to, as the server fetched it. */
export interface FetchedMedia {
  bytes: Uint8Array;
  /** The `Content-Type` the server sent, if any; informative only (types are sniffed from bytes). */
  contentType: string | null;
  /** The URL the bytes came from after same-host redirects. */
  finalUrl: string;
}

export interface FetchMediaOptions extends CallOptions {
  /** Refuse files larger than this many bytes (checked before and while reading). */
  maxBytes: number;
}

/**
 * Fetches media referenced by chat messages (`imageUrl`, `videoUrl`, …) under a policy that keeps
 * the server from being used to reach anything else (SSRF): only allowed hosts, HTTPS, public
 * addresses, same-host redirects, a size cap and a timeout. Implementations throw a
 * `LifeboatError`: `permission-denied` for a URL the policy refuses, `resource-exhausted` (not
 * retryable) for a file over the cap, `not-found`, `deadline-exceeded` or `unavailable`.
 */
export interface MediaFetcher {
  fetch(url: string, options: FetchMediaOptions): Promise<FetchedMedia>;
}
