#!/usr/bin/env node
/**
 * The SDK for web pages that load it with a script tag: one file, `LifeboatSDK` on `window`
 * (`LifeboatSDK.createBackupClient({ baseUrl, getToken, deviceId })`), built from the
 * platform-neutral core (client-sdk/src/index.ts) by esbuild. Apps with a bundler import
 * `@lifeboat/client-sdk` instead. The browser test (embedded/test/browser.test.ts) loads it.
 *
 * `npm run bundle:browser -w client-sdk` writes dist/lifeboat-sdk.browser.js; `browserBundle()`
 * returns the code without writing it.
 */
'use strict';
const { join } = require('node:path');

const ENTRY = join(__dirname, '..', 'src', 'index.ts');
const OUT = join(__dirname, '..', 'dist', 'lifeboat-sdk.browser.js');

/** The bundle's code (ES2020, an IIFE defining `LifeboatSDK`). */
async function browserBundle({ minify = false } = {}) {
  const esbuild = require('esbuild');
  // esbuild's service keeps its caller's event loop alive until stopped (a test runner in one
  // process would never exit); the next build starts it again.
  const result = await esbuild
    .build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'LifeboatSDK',
    target: 'es2020',
    minify,
    write: false,
    logLevel: 'silent',
  })
    .finally(() => esbuild.stop());
  return result.outputFiles[0].text;
}

module.exports = { browserBundle, OUT };

if (require.main === module) {
  browserBundle({ minify: true }).then(
    (code) => {
      const { mkdirSync, writeFileSync } = require('node:fs');
      mkdirSync(join(OUT, '..'), { recursive: true });
      writeFileSync(OUT, code);
      process.stdout.write(`wrote ${OUT} (${code.length} bytes)\n`);
    },
    (err) => {
      process.stderr.write(`browser bundle failed: ${err.message}\n`);
      process.exit(1);
    },
  );
}
