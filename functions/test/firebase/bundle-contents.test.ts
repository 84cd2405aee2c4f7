/**
 * The deploy bundle holds production code only: no emulator backend, no fault injection, no test
 * seam, nothing of the embedded workspace. Checked on the built files a clean build
 * (`npm --prefix functions run build:deploy`, firebase.json's predeploy) produces, i.e. the
 * compiled counterpart of every file under functions/src, and on the sources' imports.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative, sep } from 'node:path';

const REPO = join(__dirname, '..', '..', '..');
const FUNCTIONS = join(REPO, 'functions');
const BUILTINS = new Set(builtinModules);

/** What test-only code paths look like once built; none may appear in the bundle. */
const TEST_ONLY = [
  'LIFEBOAT_BACKEND', // the old switch to the embedded backend
  'LIFEBOAT_INJECT_FAULTS',
  'injected fault',
  'LIFEBOAT_DATA_DIR',
  'LIFEBOAT_UPLOAD_BASE_URL',
  'LIFEBOAT_EMBEDDED_DOWNLOAD_URL',
  '@lifeboat/embedded',
  'better-sqlite3',
  'embedded-backend',
  'ForTesting',
  'jest',
  'firebase-functions-test',
];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sources(path) : entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

describe('deploy bundle contents', () => {
  const files = sources(join(FUNCTIONS, 'src'));

  beforeAll(() => {
    execFileSync('npm', ['--prefix', FUNCTIONS, 'run', 'build'], { cwd: REPO, stdio: 'pipe' });
  }, 180_000);

  it('has no test-only code path in any built file', () => {
    const found: string[] = [];
    for (const source of files) {
      const built = join(FUNCTIONS, 'lib', relative(join(FUNCTIONS, 'src'), source)).replace(/\.ts$/, '.js');
      expect([relative(REPO, built), existsSync(built)]).toEqual([relative(REPO, built), true]);
      const text = readFileSync(built, 'utf8');
      for (const marker of TEST_ONLY) if (text.includes(marker)) found.push(`${relative(REPO, built)}: ${marker}`);
    }
    expect(found).toEqual([]);
  });

  it('imports nothing from the tests or another workspace but the protocol, and requires no module by a computed name', () => {
    const bad: string[] = [];
    for (const source of files) {
      const text = readFileSync(source, 'utf8');
      const name = relative(REPO, source).split(sep).join('/');
      for (const [, specifier] of text.matchAll(/from '([^']+)'/g)) {
        if (specifier?.includes('/test/') || (specifier?.startsWith('@lifeboat/') && specifier !== '@lifeboat/protocol') || specifier?.includes('embedded')) bad.push(`${name} imports ${specifier}`);
      }
      if (/require\((?!'[^']+'\))/.test(text)) bad.push(`${name} requires a computed module name`);
    }
    expect(bad).toEqual([]);
  });

  it('deploys an entry point with the protocol inlined: it requires no workspace package, only registry dependencies', () => {
    const entry = readFileSync(join(FUNCTIONS, 'lib', 'deploy.js'), 'utf8');
    const pkg = JSON.parse(readFileSync(join(FUNCTIONS, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const required = new Set([...entry.matchAll(/require\("([^"]+)"\)/g)].map(([, name]) => name ?? ''));
    const outside = [...required].filter((name) => !name.startsWith('node:') && !Object.keys(pkg.dependencies).some((dep) => name === dep || name.startsWith(`${dep}/`)) && !BUILTINS.has(name.split('/')[0] ?? ''));
    expect(outside).toEqual([]);
    // The protocol's schemas are in the file itself (this one parses getRestorePlan's input).
    expect(entry).toMatch(/var RestorePlanInput = [\w$.]+\.strictObject\(/);
  });
});
