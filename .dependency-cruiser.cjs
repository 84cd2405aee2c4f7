/**
 * The layers of Lifeboat, enforced (docs/invariants.md, "Layers"). `npm run lint:deps` runs this
 * over the sources and the tests; `npm test` runs it through `npm run lint`.
 *
 * Type-only imports count (`tsPreCompilationDeps`): a layer that names another's types depends on
 * it as much as one that calls it, and a cycle through types is still a cycle to read.
 */

/** Packages that tie code to one platform: only the adapters and the composition roots load them. */
const PLATFORM = '(^|/)node_modules/(firebase-admin|firebase-functions|@google-cloud/[^/]+|better-sqlite3|sharp)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles anywhere (house style): a cycle makes load order matter and layers meaningless.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-not-to-outer-layers',
      severity: 'error',
      comment:
        'The engine (functions/src/core) is I/O-free: it never imports adapters, the Firebase wiring, the embedded runtime or the SDK.',
      from: { path: '^functions/src/core/' },
      to: { path: '^(functions/src/(adapters|firebase)|embedded|client-sdk)/' },
    },
    {
      name: 'core-not-to-concrete-strategies',
      severity: 'error',
      comment:
        'Concrete strategies are a layer above the engine; core may name only their contract (strategies/strategy.ts), and only its types.',
      from: { path: '^functions/src/core/' },
      to: { path: '^functions/src/strategies/', pathNot: '^functions/src/strategies/strategy\\.ts$' },
    },
    {
      name: 'core-strategy-contract-types-only',
      severity: 'error',
      comment: 'Core may import the strategy contract for its types only (import type).',
      from: { path: '^functions/src/core/' },
      to: { path: '^functions/src/strategies/strategy\\.ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'core-no-platform-packages',
      severity: 'error',
      comment: 'Core imports no firebase-admin, firebase-functions, @google-cloud/*, better-sqlite3 or sharp: adapters do.',
      from: { path: '^functions/src/core/' },
      to: { path: PLATFORM },
    },
    {
      name: 'ports-only-model',
      severity: 'error',
      comment:
        'Ports are interfaces over the model: they import other ports and core/model, core/errors, core/retry-policy only (no package, no Node built-in).',
      from: { path: '^functions/src/ports/' },
      to: { pathNot: '^functions/src/(ports/|core/(model|errors|retry-policy)\\.ts$)' },
    },
    {
      name: 'platform-packages-only-in-adapters',
      severity: 'error',
      comment:
        'firebase-admin, firebase-functions, @google-cloud/* and better-sqlite3 are loaded only by adapters (functions/src/adapters), the Firebase composition root (functions/src/firebase) and the embedded runtime.',
      from: { path: '^(functions|client-sdk|embedded)/src/', pathNot: '^(functions/src/(adapters|firebase)|embedded/src)/' },
      to: { path: '(^|/)node_modules/(firebase-admin|firebase-functions|@google-cloud/[^/]+|better-sqlite3)/' },
    },
    {
      name: 'sharp-only-in-strategies-and-embedded',
      severity: 'error',
      comment: 'sharp (native image codecs) is loaded only by the media strategy and the embedded runtime (its bench).',
      from: { path: '^(functions|client-sdk|embedded)/src/', pathNot: '^(functions/src/strategies|embedded/src)/' },
      to: { path: '(^|/)node_modules/sharp/' },
    },
    {
      name: 'sdk-no-node-builtins',
      severity: 'error',
      comment:
        'The client SDK runs in React Native and browsers: outside client-sdk/src/node it imports no Node built-in (node:*, fs, crypto, ...).',
      from: { path: '^client-sdk/src/', pathNot: '^client-sdk/src/node/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'sdk-not-to-server',
      severity: 'error',
      comment: 'The SDK speaks to the server over the wire; it imports neither the engine nor the embedded runtime.',
      from: { path: '^client-sdk/src/' },
      to: { path: '^(functions|embedded)/' },
    },
    {
      name: 'sdk-protocol-through-one-door',
      severity: 'error',
      comment:
        'The SDK takes the protocol and zod at run time through client-sdk/src/protocol.ts alone, which its build bundles tree-shaken (scripts/bundle-protocol.mjs): another module requiring them would carry all of zod into apps. Types may come from the package.',
      from: { path: '^client-sdk/src/', pathNot: '^client-sdk/src/protocol\\.ts$' },
      to: { path: '^protocol/src/|(^|/)node_modules/zod/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'protocol-stands-alone',
      severity: 'error',
      comment:
        'The protocol (protocol/src) is what the server and the SDK share, and it ships to devices: it imports zod and itself, nothing else (no Node built-in, no other workspace).',
      from: { path: '^protocol/src/' },
      to: { pathNot: '^protocol/src/|(^|/)node_modules/zod/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing is a typo or a missing dependency.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(protocol|functions|client-sdk|embedded)/lib/' },
    tsPreCompilationDeps: true,
    // Absolute, so the rules' own test can cruise a scratch tree with this config.
    tsConfig: { fileName: require('node:path').join(__dirname, 'tsconfig.test.json') },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.d.ts', '.js', '.cjs', '.mjs', '.json'],
    },
    skipAnalysisNotInRules: true,
  },
};
