/**
 * A require hook that runs the TypeScript sources in plain Node, for what jest's transform cannot
 * reach: the runtime's task worker threads (`taskWorkerPreload`) and server processes a test
 * starts and kills. It maps the workspace packages to their sources as jest.config.js does and
 * transpiles each .ts file on require (transpile only, as ts-jest with isolatedModules), keeping
 * the output in a cache folder keyed by the source, so threads and processes after the first
 * start fast.
 */
'use strict';
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const Module = require('node:module');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CACHE = path.join(os.tmpdir(), 'lifeboat-ts-loader');
const MAPPED = [
  [/^@lifeboat\/protocol$/, () => path.join(ROOT, 'protocol', 'src', 'index.ts')],
  [/^@lifeboat\/engine$/, () => path.join(ROOT, 'functions', 'src', 'index.ts')],
  [/^@lifeboat\/engine\/(.+)$/, (m) => path.join(ROOT, 'functions', 'src', m[1])],
  [/^@lifeboat\/client-sdk$/, () => path.join(ROOT, 'client-sdk', 'src', 'index.ts')],
  [/^@lifeboat\/client-sdk\/node$/, () => path.join(ROOT, 'client-sdk', 'src', 'node', 'index.ts')],
];

if (!Module._extensions['.ts']) {
  const resolveFilename = Module._resolveFilename;
  Module._resolveFilename = function (request, ...rest) {
    for (const [pattern, to] of MAPPED) {
      const match = pattern.exec(request);
      if (match) return resolveFilename.call(this, to(match), ...rest);
    }
    return resolveFilename.call(this, request, ...rest);
  };

  let ts;
  Module._extensions['.ts'] = function (module, filename) {
    const source = fs.readFileSync(filename, 'utf8');
    const cached = path.join(CACHE, `${createHash('sha256').update(filename).update('\0').update(source).digest('hex')}.js`);
    let code;
    try {
      code = fs.readFileSync(cached, 'utf8');
    } catch {
      ts ??= require('typescript');
      code = ts.transpileModule(source, {
        fileName: filename,
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, inlineSourceMap: true },
      }).outputText;
      fs.mkdirSync(CACHE, { recursive: true });
      // Written aside and renamed, so a thread reading the cache never sees half a file.
      const partial = `${cached}.${process.pid}.${Math.random().toString(36).slice(2)}`;
      fs.writeFileSync(partial, code);
      fs.renameSync(partial, cached);
    }
    module._compile(code, filename);
  };
}
