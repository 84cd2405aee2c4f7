/**
 * The deployed entry point (`lib/deploy.js`, functions/package.json's `main`, which Cloud
 * Functions loads) as one file: `firebase deploy` uploads functions/ alone and Cloud Build installs
 * its dependencies from the npm registry, where the workspace's `@lifeboat/protocol` is not
 * (FIREBASE_NOTES: "bundle it in predeploy"). esbuild compiles `src/index.ts` with the engine and
 * the protocol inlined and every registry dependency of functions/package.json left a `require`.
 * `lib/` beside it stays tsc's, for the workspace (the package's `exports`): the embedded runtime,
 * the CLI and the emulator codebase import the engine by module, and the emulator codebase swaps
 * the runtime of the very modules the functions use (a bundle holds copies of its own). It reads
 * the sources, never `lib/`, so a build never bundles a stale file.
 */
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const registry = Object.keys(pkg.dependencies ?? {});

await build({
  absWorkingDir: root,
  entryPoints: ['src/index.ts'],
  outfile: 'lib/deploy.js',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  // Deployed on Node 22; the emulator test loads it on this machine's Node 20.
  target: 'node20',
  // The protocol from its sources, like the engine: the bundle never depends on a stale build of it.
  alias: { '@lifeboat/protocol': join(root, '..', 'protocol', 'src', 'index.ts') },
  external: registry.flatMap((name) => [name, `${name}/*`]),
  // Error and class names stay readable in Cloud Logging.
  keepNames: true,
  tsconfig: 'tsconfig.json',
  logLevel: 'warning',
});
