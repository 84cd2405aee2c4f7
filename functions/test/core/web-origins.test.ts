/**
 * The web-origins rule both runtimes apply (core/web-origins.ts): origins parse strictly, a list
 * comes as a list, a JSON list or comma-separated, and a request is served without CORS (no
 * Origin), with CORS (allowed) or refused.
 */
import { corsHeaders, judgeOrigin, parseAllowedOrigins, parseOrigin, preflightHeaders } from '../../src/core/web-origins';

describe('web origins', () => {
  it('normalizes origins and refuses anything that is not one', () => {
    expect(parseOrigin('https://App.Example.com')).toBe('https://app.example.com');
    expect(parseOrigin('https://app.example.com:443')).toBe('https://app.example.com');
    expect(parseOrigin('http://localhost:5173/')).toBe('http://localhost:5173');
    for (const bad of ['app.example.com', 'ftp://x.example', 'https://x.example/app', 'https://u:p@x.example', 'https://x.example?q=1', 'https://x.example#f', '*', 'null']) {
      expect(() => parseOrigin(bad)).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    }
  });

  it('reads a list, a JSON list or a comma-separated list, without duplicates', () => {
    expect(parseAllowedOrigins(undefined)).toEqual([]);
    expect(parseAllowedOrigins('')).toEqual([]);
    expect(parseAllowedOrigins('[]')).toEqual([]);
    expect(parseAllowedOrigins('["https://a.example", "http://localhost:3000"]')).toEqual(['https://a.example', 'http://localhost:3000']);
    expect(parseAllowedOrigins(' https://a.example , https://A.example,http://b.example:8080 ')).toEqual(['https://a.example', 'http://b.example:8080']);
    expect(parseAllowedOrigins(['https://a.example'])).toEqual(['https://a.example']);
    expect(() => parseAllowedOrigins('["https://a.example"')).toThrow(expect.objectContaining({ code: 'invalid-argument', message: expect.stringContaining('JSON list') }));
    expect(() => parseAllowedOrigins('[1]')).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    expect(() => parseAllowedOrigins('https://a.example,https://b.example/path')).toThrow(expect.objectContaining({ message: expect.stringContaining('b.example/path') }));
  });

  it('serves callers without an origin, answers allowed origins, refuses the rest', () => {
    const allowed = ['https://app.example.com'];
    expect(judgeOrigin(undefined, allowed)).toEqual({ kind: 'no-origin' });
    expect(judgeOrigin('', allowed)).toEqual({ kind: 'no-origin' });
    expect(judgeOrigin('https://app.example.com', allowed)).toEqual({ kind: 'allowed', origin: 'https://app.example.com' });
    expect(judgeOrigin(['https://app.example.com'], allowed)).toEqual({ kind: 'allowed', origin: 'https://app.example.com' });
    expect(judgeOrigin('https://evil.example', allowed)).toEqual({ kind: 'refused', origin: 'https://evil.example' });
    expect(judgeOrigin('https://app.example.com.evil.example', allowed)).toMatchObject({ kind: 'refused' });
    expect(judgeOrigin('null', allowed)).toEqual({ kind: 'refused', origin: 'null' });
    expect(judgeOrigin('https://evil.example', [])).toMatchObject({ kind: 'refused' });
    // The server's own origin (the embedded dashboard) is always its own.
    expect(judgeOrigin('http://127.0.0.1:8787', [], 'http://127.0.0.1:8787')).toMatchObject({ kind: 'allowed' });
  });

  it('names the one allowed origin in its headers, never a wildcard', () => {
    const options = { methods: ['GET', 'PUT'], allowHeaders: ['content-range'], exposeHeaders: ['range'] };
    expect(corsHeaders('https://a.example', options)).toEqual({ 'access-control-allow-origin': 'https://a.example', vary: 'Origin', 'access-control-expose-headers': 'range' });
    expect(preflightHeaders('https://a.example', options)).toMatchObject({
      'access-control-allow-origin': 'https://a.example',
      'access-control-allow-methods': 'GET, PUT',
      'access-control-allow-headers': 'content-range',
    });
    expect(preflightHeaders('https://a.example', { methods: ['GET'], allowHeaders: [], exposeHeaders: [] })).not.toHaveProperty('access-control-allow-headers');
  });
});
