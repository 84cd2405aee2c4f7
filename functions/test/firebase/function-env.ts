import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Puts the committed functions/.env values into process.env, as the emulator and Cloud Functions
 * do (params read process.env only; their defaults are injected by the CLI, not in unit tests).
 * Values already set win, as a test's own override should.
 */
export function loadFunctionsEnv(): Record<string, string> {
  const text = readFileSync(join(__dirname, '..', '..', '.env'), 'utf8');
  const values: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match?.[1] && match[2] !== undefined) values[match[1]] = match[2];
  }
  for (const [key, value] of Object.entries(values)) process.env[key] ??= value;
  return values;
}
