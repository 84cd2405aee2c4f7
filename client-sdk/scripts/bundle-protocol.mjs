/**
 * `lib/protocol.js`, the CommonJS build's one runtime door to the protocol (src/protocol.ts), as a
 * bundle of just what that module exports: `@lifeboat/protocol` and zod compiled from their ES
 * modules and tree-shaken, over the file `tsc -b` wrote. React Native's Metro takes whole
 * CommonJS files and shakes nothing: requiring zod itself would carry all of it (about 550 KiB
 * minified) into every app. Its types stay tsc's (`lib/protocol.d.ts`, re-exporting the
 * protocol's). Built from the sources, never from `lib/`, so it is never stale. Run by the root
 * `npm run build` and `npm run build -w client-sdk` (so before `npm pack`).
 */
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

await build({
  absWorkingDir: root,
  entryPoints: ['src/protocol.ts'],
  outfile: 'lib/protocol.js',
  allowOverwrite: true,
  bundle: true,
  format: 'cjs',
  platform: 'neutral',
  mainFields: ['module', 'main'],
  target: 'es2022',
  // In the workspace the protocol is its sources; a packed SDK carries this file, not them.
  alias: { '@lifeboat/protocol': join(root, '..', 'protocol', 'src', 'index.ts') },
  logLevel: 'warning',
});
