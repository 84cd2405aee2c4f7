/**
 * The layer rules' own test (.dependency-cruiser.cjs, eslint.config.mjs; docs/invariants.md,
 * "Layers"): a scratch tree laid out like the repository, with one forbidden import per rule and a
 * cycle, is cruised with the repository's config; each must be reported by its rule name, and
 * what the layers allow must not be.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');
const DEPCRUISE = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const ESLINT = join(ROOT, 'node_modules/eslint/bin/eslint.js');

/** The scratch tree: path -> source. Names say whether an import is forbidden or allowed. */
const TREE: Record<string, string> = {
  'functions/src/adapters/store.ts': "import { getFirestore } from 'firebase-admin/firestore';\nexport const store = getFirestore;\n",
  'functions/src/firebase/root.ts': "import { onCall } from 'firebase-functions/https';\nexport const root = onCall;\n",
  'functions/src/strategies/strategy.ts': 'export interface Strategy { type: string }\nexport const STRATEGY_VERSION = 1;\n',
  'functions/src/strategies/media.ts': "import sharp from 'sharp';\nexport const media = sharp;\n",
  'functions/src/strategies/sqlite.ts': "import Database from 'better-sqlite3';\nexport const db = Database;\n",
  'functions/src/core/model.ts': "import { z } from 'zod';\nexport const Job = z.object({ id: z.string() });\n",
  'functions/src/core/allowed.ts': "import type { Strategy } from '../strategies/strategy';\nimport { createHash } from 'node:crypto';\nexport const allowed = (s: Strategy) => createHash('sha256').update(s.type).digest('hex');\n",
  'functions/src/core/to-adapter.ts': "import { store } from '../adapters/store';\nexport const x = store;\n",
  'functions/src/core/to-firebase-admin.ts': "import { getFirestore } from 'firebase-admin/firestore';\nexport const x = getFirestore;\n",
  'functions/src/core/to-concrete-strategy.ts': "import { media } from '../strategies/media';\nexport const x = media;\n",
  'functions/src/core/to-contract-value.ts': "import { STRATEGY_VERSION } from '../strategies/strategy';\nexport const x = STRATEGY_VERSION;\n",
  'functions/src/core/cycle-a.ts': "import { b } from './cycle-b';\nexport const a = (): number => b() + 1;\n",
  'functions/src/core/cycle-b.ts': "import { a } from './cycle-a';\nexport const b = (): number => a() - 1;\n",
  'functions/src/ports/allowed.ts': "import type { Job } from '../core/model';\nexport type JobPort = typeof Job;\n",
  'functions/src/ports/to-package.ts': "import { z } from 'zod';\nexport const x = z;\n",
  'client-sdk/src/allowed.ts': "import { sha256 } from '@noble/hashes/sha2';\nexport const x = sha256;\n",
  'client-sdk/src/to-node.ts': "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n",
  'client-sdk/src/to-bare-node.ts': "import { createHash } from 'crypto';\nexport const x = createHash;\n",
  'client-sdk/src/node/allowed.ts': "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n",
  'client-sdk/src/protocol.ts': "import { z } from 'zod';\nexport const x = z;\n",
  'client-sdk/src/allowed-protocol-types.ts': "import type { ZodType } from 'zod';\nimport { x } from './protocol';\nexport const y: ZodType = x.string();\n",
  'client-sdk/src/to-zod.ts': "import { z } from 'zod';\nexport const x = z;\n",
  'protocol/src/allowed.ts': "import { z } from 'zod';\nexport const x = z.string();\n",
  'protocol/src/to-node.ts': "import { createHash } from 'node:crypto';\nexport const x = createHash;\n",
  'protocol/src/to-engine.ts': "import { Job } from '../../functions/src/core/model';\nexport const x = Job;\n",
  'embedded/src/allowed.ts': "import Database from 'better-sqlite3';\nimport sharp from 'sharp';\nexport const x = [Database, sharp];\n",
};

describe('the layer rules', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lifeboat-layers-'));
    for (const [path, source] of Object.entries(TREE)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), source);
    }
    // Packages resolve as they do in the repository.
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('report each forbidden import and the cycle by rule name, and nothing the layers allow', () => {
    // The `err` reporter is the one `npm run lint:deps` prints, and the one that sets the exit code.
    const run = spawnSync(process.execPath, [DEPCRUISE, '--config', join(ROOT, '.dependency-cruiser.cjs'), '--output-type', 'err', 'protocol/src', 'functions/src', 'client-sdk/src', 'embedded/src'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(run.status).not.toBe(0);
    const found = [...run.stdout.matchAll(/^\s*error ([a-z-]+): (\S+) →/gm)].map((m) => `${m[1]} ${m[2]}`);
    // A cycle is reported once, from the module the cruise met first.
    expect([...new Set(found)].sort()).toEqual(
      [
        'core-not-to-outer-layers functions/src/core/to-adapter.ts',
        'core-no-platform-packages functions/src/core/to-firebase-admin.ts',
        'platform-packages-only-in-adapters functions/src/core/to-firebase-admin.ts',
        'core-not-to-concrete-strategies functions/src/core/to-concrete-strategy.ts',
        'core-strategy-contract-types-only functions/src/core/to-contract-value.ts',
        'no-circular functions/src/core/cycle-a.ts',
        'ports-only-model functions/src/ports/to-package.ts',
        'platform-packages-only-in-adapters functions/src/strategies/sqlite.ts',
        'sdk-no-node-builtins client-sdk/src/to-node.ts',
        'sdk-no-node-builtins client-sdk/src/to-bare-node.ts',
        'sdk-protocol-through-one-door client-sdk/src/to-zod.ts',
        'protocol-stands-alone protocol/src/to-node.ts',
        'protocol-stands-alone protocol/src/to-engine.ts',
      ].sort(),
    );
    expect(run.stdout).not.toContain('not-to-unresolvable');
  }, 60_000);

  it('lint reports a finding by its rule name', () => {
    const run = spawnSync(process.execPath, [ESLINT, '--format', 'json', '--stdin', '--stdin-filename', 'functions/src/core/scratch.ts'], {
      cwd: ROOT,
      input: 'export function f(unused: string): number {\n  return 1;\n}\n',
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    const [result] = JSON.parse(run.stdout) as { messages: { ruleId: string }[] }[];
    expect(result?.messages.map((m) => m.ruleId)).toEqual(['@typescript-eslint/no-unused-vars']);
  }, 60_000);
});
