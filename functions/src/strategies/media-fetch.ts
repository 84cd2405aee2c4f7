/**
 * Fetching media that chat messages refer to, without letting a message aim the server at
 * anything else (SSRF). Two parts:
 *
 * - a pure policy: {@link checkMediaUrl} (scheme, host allow-list, port, credentials, IP
 *   literals in any notation) and {@link publicAddress} (ranges classified by ipaddr.js: only
 *   global unicast passes; no loopback, private, link-local, CGNAT, multicast, documentation,
 *   benchmarking or reserved ranges, no zone ids, and IPv4 hidden in IPv6 (mapped, translated,
 *   NAT64, 6to4) judged as the IPv4 address it is);
 * - {@link HttpsMediaFetcher}: HTTPS GET with redirects handled by hand (each hop re-checked, never
 *   to another host), every resolved address checked at connect time and handed to the socket in
 *   the canonical form that was checked (the check and the connection use the same lookup, so DNS
 *   rebinding between them is impossible), a size cap enforced on `Content-Length` and while
 *   streaming, and one deadline for the whole fetch.
 *
 * `lifeboat://blobs/{sha256}` references name a blob in the user's own store and are read by
 * the chats strategy through the content store; they never reach the network.
 */
import { lookup as dnsLookup } from 'node:dns';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import * as ipaddr from 'ipaddr.js';
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
  // The URL parser already turns `0177.0.0.1`, `0x7f000001` or `2130706433` into 127.0.0.1;
  // ipaddr.js also knows the inet_aton forms a resolver might read as an address.
  if (isIP(literal) !== 0 || ipaddr.isValid(literal)) {
    // Allow-lists name hosts; a bare address is refused outright, public or not.
    return { ok: false, reason: `IP address hosts are not allowed (${literal})` };
  }
  if (!hostAllowed(host, policy.allowedHosts)) return { ok: false, reason: `host ${host} is not on the allow-list` };
  return { ok: true, kind: 'https', url };
}

/** The only IPv6 block allocated for global unicast (RFC 4291); the rest is reserved. */
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');
/** `::a.b.c.d`, IPv4-compatible IPv6 (deprecated by RFC 4291), which ipaddr.js reads as mapped. */
const V4_COMPATIBLE = /^::(?:\d{1,3}\.){3}\d{1,3}$/;

/** The IPv4 address an IPv6 address stands for, where its range embeds one at a fixed place. */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | null | undefined {
  const bytes = address.toByteArray();
  const at = (offset: number) => new ipaddr.IPv4(bytes.slice(offset, offset + 4));
  switch (address.range()) {
    case 'ipv4Mapped': // ::ffff:a.b.c.d
    case 'rfc6145': // ::ffff:0:a.b.c.d, IPv4-translated
      return at(12);
    case 'rfc6052':
      // NAT64's well-known prefix 64:ff9b::/96 ends with the address; the local-use 64:ff9b:1::/48
      // (RFC 8215) places it where its operator chose, so it cannot be judged: refused.
      return address.match(ipaddr.parseCIDR('64:ff9b::/96')) ? at(12) : null;
    case '6to4': // 2002:aabb:ccdd::/48
      return at(2);
    default:
      return undefined;
  }
}

/**
 * The canonical form of an address a server may connect to on a user's behalf (globally
 * routable unicast), or null. Refuses what ipaddr.js classifies as anything but `unicast`
 * (loopback, private, link-local, CGNAT, multicast, broadcast, unspecified `0.0.0.0` and `::`,
 * documentation, benchmarking, AS112, AMT, ORCHID, Teredo, discard and reserved ranges), IPv6
 * outside 2000::/3, any address with a zone id (`fe80::1%eth0`: scoped, never global), and
 * IPv4-compatible IPv6. IPv4 inside IPv6 (mapped, translated, NAT64's `64:ff9b::/96`, 6to4) is
 * judged as the IPv4 address it reaches. IPv4 may be written as inet_aton reads it (`0177.0.0.1`,
 * `0x7f.1`, `2130706433`): the canonical form returned is what it means, and what a connection
 * must use.
 */
export function publicAddress(ip: string): string | null {
  if (!ipaddr.isValid(ip) || V4_COMPATIBLE.test(ip)) return null;
  const address = ipaddr.parse(ip);
  if (address instanceof ipaddr.IPv4) return address.range() === 'unicast' ? address.toString() : null;
  if (address.zoneId !== undefined) return null;
  const v4 = embeddedIPv4(address);
  if (v4 !== undefined) return v4 !== null && v4.range() === 'unicast' ? address.toString() : null;
  return address.range() === 'unicast' && address.match(GLOBAL_UNICAST_V6) ? address.toString() : null;
}

/** True for an address {@link publicAddress} accepts. */
export function isPublicAddress(ip: string): boolean {
  return publicAddress(ip) !== null;
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

  /**
   * A lookup that answers only with public addresses, in the canonical form that was checked,
   * refusing the host if any address is not public.
   */
  private safeLookup(): LookupFunction {
    return (hostname, opts, callback) => {
      this.resolve(hostname).then(
        (answers) => {
          const bad = answers.find((a) => publicAddress(a.address) === null);
          if (answers.length === 0 || bad) {
            const err = lifeboatError('permission-denied', `host ${hostname} resolves to a non-public address${bad ? ` (${bad.address})` : ''}`, { retryable: false });
            callback(err as NodeJS.ErrnoException, '', 4);
            return;
          }
          const addresses = answers.map((a) => {
            const address = publicAddress(a.address) as string;
            return { address, family: isIP(address) };
          });
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
