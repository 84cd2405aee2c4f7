/**
 * The ES module build of the protocol (`lib/esm/index.mjs`), next to the CommonJS one `tsc -b`
 * writes (`lib`): one esbuild bundle with zod left an import, so an app bundling the SDK as ESM
 * gets one copy of the schemas. Its types re-export the CommonJS declarations, which describe the
 * same API. Run by the root `npm run build`, `npm run build -w protocol` and before `npm pack`.
 */
import { build } from 'esbuild';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'lib', 'esm');

rmSync(out, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { index: 'src/index.ts' },
  outdir: out,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  external: ['zod', 'zod/*'],
  logLevel: 'warning',
});
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'index.d.mts'), "export * from '../index.js';\n");
