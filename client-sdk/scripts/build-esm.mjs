/**
 * The ES module build of the SDK (`lib/esm`), next to the CommonJS one `tsc -b` writes (`lib`):
 * esbuild bundles each entry (`.` and `./node`) with the modules they share split into common
 * chunks, so both entries hold the same classes; the protocol and the parts of zod it uses are
 * bundled; `@noble/hashes` and Node's built-ins stay imports. Each entry's types are a `.d.mts` that re-exports the CommonJS declarations, which
 * describe the same API. Run by the root `npm run build`, `npm run build -w client-sdk` and before `npm pack` (`prepack`).
 */
import { build } from 'esbuild';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'lib', 'esm');

// Chunk names carry a content hash: without a clean folder, old chunks would be packed too.
rmSync(out, { recursive: true, force: true });

await build({
  absWorkingDir: root,
  entryPoints: { index: 'src/index.ts', 'node/index': 'src/node/index.ts' },
  outdir: out,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  external: ['@noble/hashes', '@noble/hashes/*', 'node:*'],
  // The protocol and zod are bundled and tree-shaken, as in the CommonJS build (bundle-protocol.mjs).
  alias: { '@lifeboat/protocol': join(root, '..', 'protocol', 'src', 'index.ts') },
  logLevel: 'warning',
});

for (const [entry, cjs] of [['index', '../index.js'], ['node/index', '../../node/index.js']]) {
  const file = join(out, `${entry}.d.mts`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `export * from '${cjs}';\n`);
}
