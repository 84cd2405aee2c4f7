/**
 * Which browser origins may use Lifeboat (docs/protocol.md, "Web clients"), the same rule on both
 * runtimes: a request without an `Origin` header (a mobile app, Node, curl) is not a browser's
 * cross-origin request and is served; one whose origin is on the allowed list is served with CORS
 * headers naming that origin; any other is refused. The list holds exact origins
 * (`scheme://host[:port]`), no wildcards: a web client that may upload a user's data is one the
 * admin names.
 */
import { lifeboatError } from './errors';

/** The CORS answer for one allowed origin: the headers to add. */
export interface CorsOptions {
  /** Methods a preflight allows. */
  methods: readonly string[];
  /** Request headers a preflight allows. */
  allowHeaders: readonly string[];
  /** Response headers the page may read. */
  exposeHeaders: readonly string[];
}

/** Preflight answers are cached by the browser this long (Chrome caps it at 2 h). */
const PREFLIGHT_MAX_AGE_SECONDS = 3600;

/**
 * An origin as browsers send it: lower-case scheme and host, the port only when it is not the
 * scheme's default, nothing else.
 *
 * @throws LifeboatError `invalid-argument` for anything with a path, query, credentials or a
 *   scheme other than http(s).
 */
export function parseOrigin(value: string): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw lifeboatError('invalid-argument', `allowed origin ${JSON.stringify(value)} is not a URL (expected e.g. https://app.example.com)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw lifeboatError('invalid-argument', `allowed origin ${JSON.stringify(value)} must be http or https`);
  }
  if (url.username || url.password || url.search || url.hash || url.pathname !== '/') {
    throw lifeboatError('invalid-argument', `allowed origin ${JSON.stringify(value)} must be scheme://host[:port] only, with no path`);
  }
  return url.origin;
}

/**
 * The allowed origins from configuration: a list, a JSON list (`["https://a.example"]`, the form a
 * Firebase list param takes in `.env`) or a comma-separated string. Empty: no browser origin.
 *
 * @throws LifeboatError `invalid-argument` naming the first entry that is not an origin.
 */
export function parseAllowedOrigins(value: string | readonly string[] | undefined): readonly string[] {
  let entries: readonly string[];
  if (value === undefined) entries = [];
  else if (typeof value !== 'string') entries = value;
  else if (value.trim().startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      throw lifeboatError('invalid-argument', `allowed origins ${JSON.stringify(value)} is not a JSON list of strings`);
    }
    if (!Array.isArray(parsed) || !parsed.every((e): e is string => typeof e === 'string')) {
      throw lifeboatError('invalid-argument', `allowed origins ${JSON.stringify(value)} is not a JSON list of strings`);
    }
    entries = parsed;
  } else entries = value.split(',');
  return [...new Set(entries.map((e) => e.trim()).filter(Boolean).map(parseOrigin))];
}

/** What a request's `Origin` header means for it. */
export type OriginVerdict =
  | { kind: 'no-origin' }
  | { kind: 'allowed'; origin: string }
  | { kind: 'refused'; origin: string };

/**
 * Judges a request's `Origin` header against the allowed list. `self` is the server's own origin
 * (the embedded dashboard's page calls its data same-origin), always allowed.
 */
export function judgeOrigin(header: string | readonly string[] | undefined, allowed: readonly string[], self?: string): OriginVerdict {
  const raw = Array.isArray(header) ? header[0] : header;
  if (raw === undefined || raw === '') return { kind: 'no-origin' };
  const origin = String(raw).trim();
  // `null` (sandboxed pages, file:) is an origin nobody can allow.
  let normalized: string | null = null;
  try {
    normalized = parseOrigin(origin);
  } catch {
    normalized = null;
  }
  if (normalized !== null && (allowed.includes(normalized) || normalized === self)) return { kind: 'allowed', origin: normalized };
  return { kind: 'refused', origin };
}

/** The CORS headers of a response to an allowed origin (`Vary: Origin`, since they depend on it). */
export function corsHeaders(origin: string, options: CorsOptions): Record<string, string> {
  return {
    'access-control-allow-origin': origin,
    vary: 'Origin',
    ...(options.exposeHeaders.length > 0 ? { 'access-control-expose-headers': options.exposeHeaders.join(', ') } : {}),
  };
}

/** The headers of a preflight (`OPTIONS`) answer to an allowed origin. */
export function preflightHeaders(origin: string, options: CorsOptions): Record<string, string> {
  return {
    ...corsHeaders(origin, options),
    'access-control-allow-methods': options.methods.join(', '),
    ...(options.allowHeaders.length > 0 ? { 'access-control-allow-headers': options.allowHeaders.join(', ') } : {}),
    'access-control-max-age': String(PREFLIGHT_MAX_AGE_SECONDS),
  };
}

/** The message of a refused origin, the same on both runtimes. */
export function refusedOriginMessage(origin: string): string {
  return `origin ${origin} is not allowed to use Lifeboat (add it to LIFEBOAT_ALLOWED_ORIGINS)`;
}
