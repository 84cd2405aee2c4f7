/**
 * `npm run bench -- --only=bundle`: how many bytes the code ships, bundled and minified by esbuild
 * the way an app or a deploy would, with the share of each npm package (from esbuild's metafile).
 *
 * - The SDK's browser bundle: `client-sdk/lib/index.js` for `platform: 'browser'`, everything
 *   bundled (what a web or React Native app carries), raw and gzip-compressed.
 * - The functions bundle: `functions/lib/index.js` for Node 22 with the platform packages left
 *   out (firebase-admin, firebase-functions, @google-cloud/*, sharp: the deploy installs them and
 *   their size is Google's, not ours), so it is Lifeboat's own code plus the pure-JS libraries it
 *   bundles (zod, libphonenumber-js's metadata, ...).
 *
 * Sizes are exact for one set of inputs, so unlike timings they compare across runs.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';

const REPO = resolve(__dirname, '..', '..', '..');

/** Packages the functions deploy installs itself; never bundled, so not counted. */
const FUNCTIONS_PLATFORM = ['firebase-admin', 'firebase-functions', '@google-cloud/*', 'sharp'];

export interface BundleSize {
  /** Minified bytes. */
  bytes: number;
  /** The same, gzip-compressed (level 9). */
  gzipBytes: number;
  /** Minified bytes per npm package (`(own code)` for the workspace's files), largest first. */
  byPackage: Array<[string, number]>;
}

/** The npm package a bundled input comes from, or `(own code)`. */
function packageOf(input: string): string {
  const at = input.lastIndexOf('node_modules/');
  if (at < 0) return '(own code)';
  const [scope = '', name = ''] = input.slice(at + 'node_modules/'.length).split('/');
  return scope.startsWith('@') ? `${scope}/${name}` : scope;
}

function byPackage(metafile: Metafile): Array<[string, number]> {
  const sums = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name = packageOf(input);
      sums.set(name, (sums.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...sums].sort((a, b) => b[1] - a[1]);
}

/** Bundles one entry (a file, or source text resolved from `resolveDir`) and measures it. */
export async function bundleSize(
  entry: { file: string } | { source: string; resolveDir: string },
  target: { platform: 'browser' | 'node'; external?: string[] },
): Promise<BundleSize> {
  const result = await build({
    ...('file' in entry ? { entryPoints: [entry.file] } : { stdin: { contents: entry.source, resolveDir: entry.resolveDir, loader: 'js' } }),
    bundle: true,
    minify: true,
    write: false,
    metafile: true,
    logLevel: 'silent',
    format: target.platform === 'browser' ? 'esm' : 'cjs',
    platform: target.platform,
    target: target.platform === 'browser' ? 'es2022' : 'node22',
    external: target.external ?? [],
  });
  const code = result.outputFiles[0]?.contents ?? new Uint8Array();
  return { bytes: code.byteLength, gzipBytes: gzipSync(code, { level: 9 }).byteLength, byPackage: byPackage(result.metafile) };
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
const shares = (size: BundleSize, top: number) => size.byPackage.slice(0, top).map(([name, n]) => `${name} ${kb(n)}`).join(', ');

/** The bench rows: the SDK's browser bundle, the AES-GCM it may carry, the functions bundle. */
export async function bundleBench(row: (k: string, v: string) => void): Promise<void> {
  const sdk = await bundleSize({ file: join(REPO, 'client-sdk', 'lib', 'index.js') }, { platform: 'browser' });
  row('bundle: SDK, browser (esbuild, minified)', `${sdk.bytes} B (${kb(sdk.bytes)}), gzip ${sdk.gzipBytes} B; by package: ${shares(sdk, 6)}`);
  // The protocol's share: the SDK's lib/protocol.js carries @lifeboat/protocol and the parts of
  // zod it uses, tree-shaken at build time, so it counts as the SDK's own code above.
  const protocol = await bundleSize({ file: join(REPO, 'client-sdk', 'lib', 'protocol.js') }, { platform: 'browser' });
  const wholeZod = await bundleSize({ source: "module.exports = require('zod');", resolveDir: join(REPO, 'protocol') }, { platform: 'browser' });
  row(
    'bundle: SDK protocol share (lib/protocol.js: the protocol and zod, tree-shaken)',
    `${protocol.bytes} B (${kb(protocol.bytes)}), gzip ${protocol.gzipBytes} B; zod required whole, as a bundler without tree shaking takes it: ${wholeZod.bytes} B (${kb(wholeZod.bytes)}), gzip ${wholeZod.gzipBytes} B`,
  );
  // The cipher on its own, as the SDK imports it, so the SDK's growth can be held against it.
  const sdkDir = join(REPO, 'client-sdk');
  if (existsSync(join(sdkDir, 'node_modules', '@noble', 'ciphers')) || existsSync(join(REPO, 'node_modules', '@noble', 'ciphers'))) {
    // The SDK is CommonJS, so a bundler takes the whole `aes` module it requires; an ES module
    // import of `gcm` alone is what tree shaking would leave.
    const required = await bundleSize({ source: "module.exports = require('@noble/ciphers/aes').gcm;", resolveDir: sdkDir }, { platform: 'browser' });
    const shaken = await bundleSize({ source: "export { gcm } from '@noble/ciphers/aes';", resolveDir: sdkDir }, { platform: 'browser' });
    row(
      'bundle: AES-GCM alone (@noble/ciphers/aes gcm)',
      `${required.bytes} B (${kb(required.bytes)}), gzip ${required.gzipBytes} B, required as the SDK does; ${shaken.bytes} B, gzip ${shaken.gzipBytes} B as a tree-shaken ES import`,
    );
  } else {
    row('bundle: AES-GCM alone (@noble/ciphers/aes gcm)', 'not installed');
  }
  const functions = await bundleSize({ file: join(REPO, 'functions', 'lib', 'index.js') }, { platform: 'node', external: FUNCTIONS_PLATFORM });
  row(
    `bundle: functions, Node 22 (esbuild, minified; ${FUNCTIONS_PLATFORM.join(', ')} external)`,
    `${functions.bytes} B (${kb(functions.bytes)}), gzip ${functions.gzipBytes} B; by package: ${shares(functions, 6)}`,
  );
}
