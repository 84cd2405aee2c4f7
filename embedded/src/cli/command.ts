/**
 * The shape of a `lifeboat` command: a plain `(input, deps)` function that returns its result as
 * data (printed as JSON with `--json`) and as text, with the exit code. Only progress is written
 * while it runs.
 */
import { usageError } from './cli-error';
import type { CliData } from './data';
import type { Progress } from './progress';
import type { ExitCode } from './spec';

export interface CommandInput {
  positionals: string[];
  values: Record<string, string | boolean | undefined>;
}

export interface CommandDeps {
  data: CliData;
  /** A progress line (silent unless stdout is a terminal and the output is not JSON). */
  progress(label: string, total?: number): Progress;
}

export interface CommandResult {
  exitCode: ExitCode;
  /** What `--json` prints. */
  data: unknown;
  /** What is printed otherwise (ends with a newline). */
  text: string;
}

export type CommandHandler = (input: CommandInput, deps: CommandDeps) => Promise<CommandResult>;

/** A string option's value, if given. */
export function stringOption(input: CommandInput, name: string): string | undefined {
  const value = input.values[name];
  return typeof value === 'string' ? value : undefined;
}

/** A string option the command cannot do without: a usage error names it when missing. */
export function requiredOption(input: CommandInput, name: string, command: string): string {
  const value = stringOption(input, name);
  if (value === undefined || value === '') usageError(`${command} needs --${name}`);
  return value;
}

/** A whole number option within bounds, or its default. */
export function intOption(input: CommandInput, name: string, min: number, max: number, fallback: number): number {
  const raw = stringOption(input, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) usageError(`--${name} must be a whole number from ${min} to ${max}, got ${raw}`);
  return value;
}

export function flag(input: CommandInput, name: string): boolean {
  return input.values[name] === true;
}
