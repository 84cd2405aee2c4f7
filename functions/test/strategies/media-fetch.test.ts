import { hasCode } from '../../src/core/errors';
import { checkMediaUrl, HttpsMediaFetcher, isPublicAddress, publicAddress, type HttpGet, type HttpResponse, type Resolver } from '../../src/strategies/media-fetch';

const policy = { allowedHosts: ['media.example.com', '*.cdn.example.net', 'firebasestorage.googleapis.com'] };
const HASH = 'a'.repeat(64);

describe('media URL policy', () => {
  it.each([
    ['https://media.example.com/a.jpg', true],
    ['https://MEDIA.example.com./a.jpg', true],
    ['https://x.cdn.example.net/a.jpg', true],
    ['https://cdn.example.net/a.jpg', false], // `*.` does not match the bare suffix
    ['https://evilcdn.example.net/a.jpg', false],
    ['https://media.example.com.evil.org/a.jpg', false],
    ['http://media.example.com/a.jpg', false],
    ['ftp://media.example.com/a.jpg', false],
    ['file:///etc/passwd', false],
    ['https://user:pw@media.example.com/a.jpg', false],
    ['https://media.example.com:8443/a.jpg', false],
    ['https://media.example.com:443/a.jpg', true],
    ['https://127.0.0.1/a.jpg', false],
    ['https://[::1]/a.jpg', false],
    ['https://8.8.8.8/a.jpg', false], // IP literals are refused even when public
    ['https://2130706433/a.jpg', false], // decimal 127.0.0.1, normalized by URL
    ['not a url', false],
  ])('%s → %s', (url, ok) => {
    expect(checkMediaUrl(url, policy).ok).toBe(ok);
  });

  // The classic ways to write a private address in a URL: every one is refused before any lookup.
  it.each([
    'https://0177.0.0.1/a.jpg', // octal
    'https://0x7f000001/a.jpg', // hex, one number
    'https://0x7f.0x0.0.1/a.jpg', // hex parts
    'https://017700000001/a.jpg', // octal, one number
    'https://127.1/a.jpg', // two parts
    'https://0/a.jpg', // 0.0.0.0
    'https://0.0.0.0/a.jpg',
    'https://%31%32%37.0.0.1/a.jpg', // percent-encoded
    'https://127\u30020\u30020\u30021/a.jpg', // ideographic full stops
    'https://[::ffff:127.0.0.1]/a.jpg', // IPv4-mapped
    'https://[0:0:0:0:0:ffff:7f00:1]/a.jpg',
    'https://[64:ff9b::7f00:1]/a.jpg', // NAT64
    'https://[::127.0.0.1]/a.jpg', // IPv4-compatible
    'https://[fe80::1%25eth0]/a.jpg', // zone id
    'https://[::]/a.jpg',
  ])('refuses the IP literal %s', (url) => {
    expect(checkMediaUrl(url, { allowedHosts: ['*'] }).ok).toBe(false);
  });

  it('recognizes references to the user\'s own blobs', () => {
    expect(checkMediaUrl(`lifeboat://blobs/${HASH}`, { allowedHosts: [] })).toEqual({ ok: true, kind: 'blob', hash: HASH });
    expect(checkMediaUrl('lifeboat://blobs/../etc', { allowedHosts: [] }).ok).toBe(false);
  });

  it.each([
    ['8.8.8.8', true], ['1.1.1.1', true], ['2606:4700:4700::1111', true],
    ['127.0.0.1', false], ['10.1.2.3', false], ['172.16.0.1', false], ['172.31.255.255', false], ['172.32.0.1', true],
    ['192.168.1.1', false], ['169.254.169.254', false], ['100.64.0.1', false], ['0.0.0.0', false],
    ['224.0.0.1', false], ['255.255.255.255', false], ['198.18.0.1', false], ['203.0.113.9', false],
    ['::1', false], ['::', false], ['fe80::1', false], ['fd00::1', false], ['ff02::1', false], ['2001:db8::1', false],
    ['::ffff:127.0.0.1', false], ['::ffff:7f00:1', false], ['::ffff:8.8.8.8', true], ['64:ff9b::a9fe:a9fe', false],
    ['2002:c0a8:0101::1', false], ['fe80::1%eth0', false], ['not-an-ip', false],
  ])('address %s public: %s', (ip, expected) => {
    expect(isPublicAddress(ip)).toBe(expected);
  });

  it.each([
    // IPv4 as inet_aton reads it: judged by what it means.
    ['0177.0.0.1', false], ['0x7f.0.0.1', false], ['0x7f000001', false], ['2130706433', false], ['127.1', false],
    ['0', false], ['0x0', false], ['0.0.0.0', false], ['0300.0250.0.1', false], ['0xa9.0xfe.0xa9.0xfe', false],
    // Zone ids: scoped addresses, never global, whatever the address.
    ['fe80::1%eth0', false], ['fe80::1%25eth0', false], ['2606:4700:4700::1111%eth0', false], ['::ffff:8.8.8.8%1', false],
    // IPv4 hidden in IPv6: mapped, translated, NAT64, 6to4, IPv4-compatible.
    ['::ffff:10.0.0.1', false], ['0:0:0:0:0:ffff:a9fe:a9fe', false], ['::ffff:0:7f00:1', false], ['::ffff:0:808:808', true],
    ['64:ff9b::127.0.0.1', false], ['64:ff9b::808:808', true], ['64:ff9b:1::808:808', false],
    ['2002:7f00:1::1', false], ['2002:808:808::1', true], ['::127.0.0.1', false], ['::8.8.8.8', false],
    // Special IPv6 blocks inside and outside 2000::/3.
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', false], ['2001:2::1', false], ['2001:10::1', false], ['3fff::1', false],
    ['4000::1', false], ['5f00::1', false], ['100::1', false], ['fec0::1', false],
    // Other IPv4 special ranges.
    ['192.175.48.1', false], ['192.52.193.1', false], ['192.0.0.8', false], ['240.0.0.1', false],
  ])('address %s public: %s (bypass forms)', (ip, expected) => {
    expect(isPublicAddress(ip)).toBe(expected);
  });

  it('gives the canonical form of a public address, which is what a connection uses', () => {
    expect(publicAddress('010.8.8.8')).toBe('8.8.8.8'); // octal 010 is 8, not 10
    expect(publicAddress('0x08080808')).toBe('8.8.8.8');
    expect(publicAddress('134744072')).toBe('8.8.8.8');
    expect(publicAddress('2606:4700:4700:0:0:0:0:1111')).toBe('2606:4700:4700::1111');
    expect(publicAddress('::ffff:8.8.8.8')).toBe('::ffff:808:808');
    expect(publicAddress('10.0.0.1')).toBeNull();
  });
});

/** A scripted HTTP server: responses by URL, and a record of what was asked and resolved. */
function fakeWeb(routes: Record<string, { status: number; headers?: Record<string, string>; body?: Uint8Array[]; hang?: boolean }>, dns: Record<string, string[]>) {
  const requested: string[] = [];
  const connectedTo: string[] = [];
  const resolve: Resolver = async (host) => {
    const addresses = dns[host];
    if (!addresses) throw new Error(`ENOTFOUND ${host}`);
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  const get: HttpGet = async (url, { signal, lookup }) => {
    // Like node:https, connect through the lookup we were given.
    const address = await new Promise<string>((ok, fail) => lookup(url.hostname, {}, (err, a) => (err ? fail(err) : ok(a as string))));
    connectedTo.push(address);
    requested.push(url.toString());
    const route = routes[url.toString()];
    if (!route) return { status: 404, headers: {}, body: (async function* () {})(), destroy() {} };
    let destroyed = false;
    const res: HttpResponse = {
      status: route.status,
      headers: route.headers ?? {},
      body: (async function* () {
        for (const piece of route.body ?? []) {
          if (destroyed) return;
          yield piece;
        }
        if (route.hang) await new Promise((_ok, fail) => signal.addEventListener('abort', () => fail(new Error('aborted'))));
      })(),
      destroy() {
        destroyed = true;
      },
    };
    return res;
  };
  return { resolve, get, requested, connectedTo };
}

const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);
const code = async (p: Promise<unknown>) => p.then(() => 'ok', (err: unknown) => (hasCode(err, 'permission-denied') ? 'permission-denied' : hasCode(err, 'resource-exhausted') ? 'resource-exhausted' : hasCode(err, 'deadline-exceeded') ? 'deadline-exceeded' : hasCode(err, 'not-found') ? 'not-found' : hasCode(err, 'unavailable') ? 'unavailable' : String(err)));

describe('HttpsMediaFetcher', () => {
  const dns = { 'media.example.com': ['93.184.216.34'], 'x.cdn.example.net': ['10.0.0.5'], 'mixed.cdn.example.net': ['93.184.216.35', '127.0.0.1'] };

  it('fetches an allowed file and follows a same-host redirect, checking each hop', async () => {
    const web = fakeWeb({
      'https://media.example.com/a.jpg': { status: 302, headers: { location: '/b.jpg' } },
      'https://media.example.com/b.jpg': { status: 200, headers: { 'content-type': 'image/jpeg', 'content-length': '6' }, body: [bytes(4), bytes(2)] },
    }, dns);
    const fetcher = new HttpsMediaFetcher({ policy, resolve: web.resolve, get: web.get });
    const got = await fetcher.fetch('https://media.example.com/a.jpg', { maxBytes: 100 });
    expect(got).toEqual({ bytes: bytes(6), contentType: 'image/jpeg', finalUrl: 'https://media.example.com/b.jpg' });
    expect(web.requested).toEqual(['https://media.example.com/a.jpg', 'https://media.example.com/b.jpg']);
    expect(web.connectedTo).toEqual(['93.184.216.34', '93.184.216.34']);
  });

  it('refuses redirects to another host, to http, to a private address, and too many hops', async () => {
    const web = fakeWeb({
      'https://media.example.com/other': { status: 301, headers: { location: 'https://x.cdn.example.net/a.jpg' } },
      'https://media.example.com/plain': { status: 307, headers: { location: 'http://media.example.com/a.jpg' } },
      'https://media.example.com/meta': { status: 302, headers: { location: 'https://169.254.169.254/latest/meta-data' } },
      'https://media.example.com/loop': { status: 302, headers: { location: '/loop' } },
    }, dns);
    const fetcher = new HttpsMediaFetcher({ policy, resolve: web.resolve, get: web.get });
    for (const path of ['other', 'plain', 'meta', 'loop']) {
      expect(await code(fetcher.fetch(`https://media.example.com/${path}`, { maxBytes: 100 }))).toBe('permission-denied');
    }
    expect(web.requested.filter((u) => !u.startsWith('https://media.example.com/'))).toEqual([]);
    expect(web.requested.filter((u) => u.endsWith('/loop'))).toHaveLength(4); // first try + 3 redirects
  });

  it('refuses hosts that resolve to a private address, even when allowed, before connecting', async () => {
    const web = fakeWeb({ 'https://x.cdn.example.net/a.jpg': { status: 200, body: [bytes(1)] } }, dns);
    const fetcher = new HttpsMediaFetcher({ policy, resolve: web.resolve, get: web.get });
    expect(await code(fetcher.fetch('https://x.cdn.example.net/a.jpg', { maxBytes: 100 }))).toBe('permission-denied');
    expect(await code(fetcher.fetch('https://mixed.cdn.example.net/a.jpg', { maxBytes: 100 }))).toBe('permission-denied');
    expect(web.connectedTo).toEqual([]);
  });

  it('refuses a lookup that changes its answer between the check and the connection (DNS rebinding)', async () => {
    let calls = 0;
    const rebinding: Resolver = async () => [{ address: calls++ === 0 ? '93.184.216.34' : '127.0.0.1', family: 4 }];
    const web = fakeWeb({ 'https://media.example.com/a.jpg': { status: 200, body: [bytes(1)] } }, dns);
    const fetcher = new HttpsMediaFetcher({ policy, resolve: rebinding, get: web.get });
    expect(await code(fetcher.fetch('https://media.example.com/a.jpg', { maxBytes: 100 }))).toBe('permission-denied');
    expect(web.connectedTo).toEqual([]);
  });

  it.each(['0.0.0.0', '10.0.0.7', '0177.0.0.1', '2130706433', '::ffff:127.0.0.1', '::ffff:a9fe:a9fe', '64:ff9b::a9fe:a9fe', 'fe80::1%eth0', '::1', '::'])(
    'refuses a lookup that answers public for the check and %s for the connection',
    async (later) => {
      let calls = 0;
      const rebinding: Resolver = async () => [{ address: calls++ === 0 ? '93.184.216.34' : later, family: later.includes(':') ? 6 : 4 }];
      const web = fakeWeb({ 'https://media.example.com/a.jpg': { status: 200, body: [bytes(1)] } }, dns);
      const fetcher = new HttpsMediaFetcher({ policy, resolve: rebinding, get: web.get });
      expect(await code(fetcher.fetch('https://media.example.com/a.jpg', { maxBytes: 100 }))).toBe('permission-denied');
      expect(web.connectedTo).toEqual([]);
    },
  );

  it('refuses an answer that turns private between the hops of a redirect', async () => {
    let calls = 0;
    // Check and connection of the first hop see the public address, the second hop's do not.
    const rebinding: Resolver = async () => [{ address: calls++ < 2 ? '93.184.216.34' : '192.168.0.10', family: 4 }];
    const web = fakeWeb({
      'https://media.example.com/a.jpg': { status: 302, headers: { location: '/b.jpg' } },
      'https://media.example.com/b.jpg': { status: 200, body: [bytes(1)] },
    }, dns);
    const fetcher = new HttpsMediaFetcher({ policy, resolve: rebinding, get: web.get });
    expect(await code(fetcher.fetch('https://media.example.com/a.jpg', { maxBytes: 100 }))).toBe('permission-denied');
    expect(web.connectedTo).toEqual(['93.184.216.34']);
  });

  it('connects to the canonical form of the address it checked, never the resolver\'s own spelling', async () => {
    const odd: Resolver = async () => [{ address: '0x5d.0xb8.0xd8.0x22', family: 4 }];
    const web = fakeWeb({ 'https://media.example.com/a.jpg': { status: 200, body: [bytes(3)] } }, dns);
    const fetcher = new HttpsMediaFetcher({ policy, resolve: odd, get: web.get });
    expect((await fetcher.fetch('https://media.example.com/a.jpg', { maxBytes: 100 })).bytes).toEqual(bytes(3));
    expect(web.connectedTo).toEqual(['93.184.216.34']);
  });

  it('caps the size by Content-Length and while streaming', async () => {
    const web = fakeWeb({
      'https://media.example.com/declared': { status: 200, headers: { 'content-length': '5000' }, body: [bytes(5000)] },
      'https://media.example.com/chunked': { status: 200, body: [bytes(60), bytes(60)] },
    }, dns);
    const fetcher = new HttpsMediaFetcher({ policy, resolve: web.resolve, get: web.get });
    expect(await code(fetcher.fetch('https://media.example.com/declared', { maxBytes: 100 }))).toBe('resource-exhausted');
    expect(await code(fetcher.fetch('https://media.example.com/chunked', { maxBytes: 100 }))).toBe('resource-exhausted');
  });

  it('times out a server that stops sending, and maps HTTP errors', async () => {
    const web = fakeWeb({
      'https://media.example.com/slow': { status: 200, body: [bytes(1)], hang: true },
      'https://media.example.com/down': { status: 503 },
    }, dns);
    const fetcher = new HttpsMediaFetcher({ policy: { ...policy, timeoutMs: 50 }, resolve: web.resolve, get: web.get });
    expect(await code(fetcher.fetch('https://media.example.com/slow', { maxBytes: 100 }))).toBe('deadline-exceeded');
    expect(await code(fetcher.fetch('https://media.example.com/gone', { maxBytes: 100 }))).toBe('not-found');
    expect(await code(fetcher.fetch('https://media.example.com/down', { maxBytes: 100 }))).toBe('unavailable');
  });

  it('the real node:https transport never connects to a host that resolves to loopback', async () => {
    const fetcher = new HttpsMediaFetcher({ policy: { allowedHosts: ['localhost'] }, resolve: async () => [{ address: '127.0.0.1', family: 4 }] });
    expect(await code(fetcher.fetch('https://localhost/a.jpg', { maxBytes: 100 }))).toBe('permission-denied');
  });
});
