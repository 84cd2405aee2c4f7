/**
 * Fetching media that chat messages refer to, without letting a message aim the server at
 * anything else (SSRF). Two parts:
 *
 * - a pure policy: {@link checkMediaUrl} (scheme, host allow-list, port, credentials, IP
 *   literals) and {@link isPublicAddress} (no loopback, private, link-local, CGNAT, multicast,
 *   documentation or reserved ranges, IPv4-mapped and NAT64 IPv6 included);
 * - {@link HttpsMediaFetcher}: HTTPS GET with redirects handled by hand (each hop re-checked, never
 *   to another host), every resolved address checked at connect time (the check and the
 *   connection use the same lookup, so DNS rebinding between them is impossible), a size cap
 *   enforced on `Content-Length` and while streaming, and one deadline for the whole fetch.
 *
 * `lifeboat://blobs/{sha256}` references name a blob in the user's own store and are read by
 * the chats strategy through the content store; they never reach the network.
 */
import { lookup as dnsLookup } from 'node:dns';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { hasCode, isLifeboatError, lifeboatError } from '../core/errors';
import { readAll } from '../ports/blob-store';
import type { FetchedMedia, FetchMediaOptions, MediaFetcher } from '../ports/media-fetcher';

/** Where referenced media may come from. */
export interface MediaFetchPolicy {
  /**
   * Hosts media may be fetched from: exact names (`cdn.example.com`) or a suffix after `*.`
   * (`*.example.com`, which does not match `example.com` itself). The project's bucket host goes
   * here, e.g. `firebasestorage.googleapis.com`. @default [] (only `lifeboat://` references)
   */
  allowedHosts: readonly string[];
  /** Whole fetch, redirects included. @default 20_000 */
  timeoutMs?: number;
  /** @default 3 */
  maxRedirects?: number;
}

export const LIFEBOAT_BLOB_URL = /^lifeboat:\/\/blobs\/([0-9a-f]{64})$/;

export type MediaUrlCheck =
  | { ok: true; kind: 'blob'; hash: string }
  | { ok: true; kind: 'https'; url: URL }
  | { ok: false; reason: string };

function hostAllowed(host: string, allowed: readonly string[]): boolean {
  return allowed.some((pattern) => {
    const p = pattern.toLowerCase();
    return p.startsWith('*.') ? host.endsWith(p.slice(1)) && host.length > p.length - 1 : host === p;
  });
}

/** The policy's verdict on a URL before any network access. */
export function checkMediaUrl(raw: string, policy: Pick<MediaFetchPolicy, 'allowedHosts'>): MediaUrlCheck {
  const blob = LIFEBOAT_BLOB_URL.exec(raw);
  if (blob?.[1]) return { ok: true, kind: 'blob', hash: blob[1] };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'not a URL' };
  }
  if (url.protocol !== 'https:') return { ok: false, reason: `scheme ${url.protocol} is not allowed (HTTPS only)` };
  if (url.username || url.password) return { ok: false, reason: 'URLs with credentials are not allowed' };
  if (url.port !== '' && url.port !== '443') return { ok: false, reason: `port ${url.port} is not allowed` };
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  const literal = host.startsWith('[') ? host.slice(1, -1) : host;
  if (isIP(literal) !== 0) {
    // Allow-lists name hosts; a bare address is refused outright, public or not.
    return { ok: false, reason: `IP address hosts are not allowed (${literal})` };
  }
  if (!hostAllowed(host, policy.allowedHosts)) return { ok: false, reason: `host ${host} is not on the allow-list` };
  return { ok: true, kind: 'https', url };
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

const V4_BLOCKED: ReadonlyArray<[string, number]> = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16],
  ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
];

function v4Public(ip: string): boolean {
  const n = ipv4ToInt(ip);
  return !V4_BLOCKED.some(([base, bits]) => {
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    return ((n & mask) >>> 0) === ((ipv4ToInt(base) & mask) >>> 0);
  });
}

/** The eight 16-bit groups of an IPv6 address (`::` expanded, a trailing dotted IPv4 converted). */
function ipv6Groups(ip: string): number[] | null {
  let s = ip.split('%')[0] ?? '';
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted?.[1]) {
    const n = ipv4ToInt(dotted[1]);
    s = s.slice(0, -dotted[1].length) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = s.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const a = parse(head);
  const b = tail === undefined ? [] : parse(tail);
  const groups = tail === undefined ? a : [...a, ...new Array<number>(8 - a.length - b.length).fill(0), ...b];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

/**
 * True for an address a server may connect to on a user's behalf: globally routable unicast.
 * Refuses loopback, private, link-local, CGNAT, multicast, documentation, benchmarking and
 * reserved ranges, IPv6 unique-local/link-local/multicast/discard, and IPv4 addresses hidden in
 * IPv6 (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`).
 */
export function isPublicAddress(ip: string): boolean {
  const family = isIP(ip.split('%')[0] ?? '');
  if (family === 4) return v4Public(ip);
  if (family !== 6) return false;
  const g = ipv6Groups(ip);
  if (!g) return false;
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  const embeddedV4 = `${g6 >>> 8}.${g6 & 0xff}.${g7 >>> 8}.${g7 & 0xff}`;
  const upperZero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (upperZero && (g5 === 0xffff || g5 === 0)) {
    // ::ffff:a.b.c.d, ::a.b.c.d, and :: / ::1 (whose "embedded" address is 0.0.0.x).
    return v4Public(embeddedV4);
  }
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return v4Public(embeddedV4);
  if ((g0 & 0xfe00) === 0xfc00) return false; // fc00::/7 unique local
  if ((g0 & 0xffc0) === 0xfe80) return false; // fe80::/10 link local
  if ((g0 & 0xffc0) === 0xfec0) return false; // fec0::/10 site local (deprecated)
  if ((g0 & 0xff00) === 0xff00) return false; // multicast
  if (g0 === 0x2001 && g1 === 0x0db8) return false; // documentation
  if (g0 === 0x0100 && g1 === 0 && g2 === 0 && g3 === 0) return false; // discard-only
  if (g0 === 0x2002) return v4Public(`${g1 >>> 8}.${g1 & 0xff}.${g2 >>> 8}.${g2 & 0xff}`); // 6to4
  return (g0 & 0xe000) === 0x2000; // only global unicast 2000::/3 is routable
}

/** Resolves a host name to all its addresses (`dns.lookup` with `all: true` in production). */
export type Resolver = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

export interface HttpResponse {
  status: number;
  headers: Record<string, string | undefined>;
  body: AsyncIterable<Uint8Array>;
  /** Stops reading and closes the connection. */
  destroy(): void;
}

/**
 * One HTTP GET without following redirects. `lookup` must be used for the connection, so the
 * address connected to is the address the policy checked.
 */
export type HttpGet = (url: URL, init: { signal: AbortSignal; lookup: LookupFunction }) => Promise<HttpResponse>;

const nodeResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses)));
  });

/** `node:https` GET with the given lookup; no redirects followed, no proxy. */
export const nodeHttpsGet: HttpGet = (url, { signal, lookup }) =>
  new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: 'GET', signal, lookup, headers: { 'user-agent': 'lifeboat-media-fetch', accept: '*/*' } }, (res) => {
      const headers: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(res.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      resolve({ status: res.statusCode ?? 0, headers, body: res, destroy: () => res.destroy() });
    });
    req.on('error', reject);
    req.end();
  });

export interface HttpsMediaFetcherOptions {
  policy: MediaFetchPolicy;
  /** @default dns.lookup (all addresses) */
  resolve?: Resolver;
  /** @default nodeHttpsGet */
  get?: HttpGet;
}

const MAX_REDIRECTS = 3;
const TIMEOUT_MS = 20_000;

/** Passes a response body through, stopping it (`stop`) as soon as it goes past `maxBytes`. */
async function* capped(body: AsyncIterable<Uint8Array>, maxBytes: number, stop: () => void): AsyncGenerator<Uint8Array> {
  let size = 0;
  for await (const piece of body) {
    size += piece.byteLength;
    if (size > maxBytes) {
      stop();
      throw lifeboatError('resource-exhausted', `larger than the ${maxBytes}-byte cap`, { retryable: false });
    }
    yield piece;
  }
}

/** Fetches referenced media over HTTPS under a {@link MediaFetchPolicy}; see the module comment. */
export class HttpsMediaFetcher implements MediaFetcher {
  private readonly resolve: Resolver;
  private readonly get: HttpGet;

  constructor(private readonly options: HttpsMediaFetcherOptions) {
    this.resolve = options.resolve ?? nodeResolver;
    this.get = options.get ?? nodeHttpsGet;
  }

  /** A lookup that answers only with public addresses, refusing the host if any is not. */
  private safeLookup(): LookupFunction {
    return (hostname, opts, callback) => {
      this.resolve(hostname).then(
        (addresses) => {
          const bad = addresses.find((a) => !isPublicAddress(a.address));
          if (addresses.length === 0 || bad) {
            const err = lifeboatError('permission-denied', `host ${hostname} resolves to a non-public address${bad ? ` (${bad.address})` : ''}`, { retryable: false });
            callback(err as NodeJS.ErrnoException, '', 4);
            return;
          }
          if ((opts as { all?: boolean }).all) {
            (callback as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, addresses);
          } else {
            const first = addresses[0] as { address: string; family: number };
            callback(null, first.address, first.family);
          }
        },
        (err: unknown) => callback(lifeboatError('unavailable', `cannot resolve ${hostname}: ${(err as Error).message}`) as NodeJS.ErrnoException, '', 4),
      );
    };
  }

  async fetch(raw: string, { maxBytes, signal }: FetchMediaOptions): Promise<FetchedMedia> {
    const timeoutMs = this.options.policy.timeoutMs ?? TIMEOUT_MS;
    const deadline = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, deadline]) : deadline;
    const lookup = this.safeLookup();
    let current = raw;
    let firstHost: string | null = null;
    try {
      for (let hop = 0; hop <= (this.options.policy.maxRedirects ?? MAX_REDIRECTS); hop++) {
        const check = checkMediaUrl(current, this.options.policy);
        if (!check.ok) throw lifeboatError('permission-denied', `${hop > 0 ? 'redirect refused: ' : ''}${check.reason}`, { retryable: false });
        if (check.kind !== 'https') throw lifeboatError('permission-denied', 'redirect to a lifeboat:// reference refused', { retryable: false });
        const host = check.url.hostname.toLowerCase();
        firstHost ??= host;
        if (host !== firstHost) throw lifeboatError('permission-denied', `redirect to another host (${host}) refused`, { retryable: false });
        // Resolved here too, so a refusal names the address before any connection is tried.
        await new Promise<void>((ok, fail) => lookup(host, { all: true }, (err) => (err ? fail(err) : ok())));

        const res = await this.get(check.url, { signal: combined, lookup });
        if (res.status >= 300 && res.status < 400) {
          res.destroy();
          const location = res.headers['location'];
          if (!location) throw lifeboatError('unavailable', `HTTP ${res.status} without a Location`, { retryable: false });
          current = new URL(location, check.url).toString();
          continue;
        }
        if (res.status !== 200) {
          res.destroy();
          const code = res.status === 404 || res.status === 410 ? 'not-found' : res.status >= 500 || res.status === 429 ? 'unavailable' : 'permission-denied';
          throw lifeboatError(code, `HTTP ${res.status}`, { retryable: code === 'unavailable' });
        }
        const declared = Number(res.headers['content-length'] ?? NaN);
        if (Number.isFinite(declared) && declared > maxBytes) {
          res.destroy();
          throw lifeboatError('resource-exhausted', `larger than the ${maxBytes}-byte cap (${declared} bytes)`, { retryable: false });
        }
        const bytes = await readAll(capped(res.body, maxBytes, () => res.destroy()));
        return { bytes, contentType: res.headers['content-type'] ?? null, finalUrl: check.url.toString() };
      }
      throw lifeboatError('permission-denied', 'too many redirects', { retryable: false });
    } catch (err) {
      if (deadline.aborted && !hasCode(err, 'permission-denied') && !hasCode(err, 'resource-exhausted')) {
        throw lifeboatError('deadline-exceeded', `fetch took longer than ${timeoutMs} ms`);
      }
      if (signal?.aborted) throw lifeboatError('cancelled', 'the fetch was cancelled');
      if (isLifeboatError(err)) throw err;
      throw lifeboatError('unavailable', `fetch failed: ${(err as Error).message}`, { cause: err });
    }
  }
}
