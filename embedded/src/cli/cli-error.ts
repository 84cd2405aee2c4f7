/**
 * How the CLI reports an error: one line, `lifeboat: <code>: <message>`, with the engine's error
 * code (or the system's, `ENOSPC`), and the stack trace only under `--debug`. A usage error exits
 * 2, anything else 1 (docs: `lifeboat help`, "Exit codes").
 */
import { isLifeboatError } from '@lifeboat/engine/core';
import { EXIT, type ExitCode } from './spec';

/** The command was called wrongly: exit 2. */
export class UsageError extends Error {
  readonly code = 'invalid-argument';
}

export function usageError(message: string): never {
  throw new UsageError(message);
}

export interface DescribedError {
  code: string;
  /** The message on one line. */
  message: string;
  exitCode: ExitCode;
}

export function describeError(err: unknown): DescribedError {
  const code = (err as { code?: unknown } | null)?.code;
  // parseArgs adds a hint about `--` to an unknown option; the option's name is what matters.
  const message = (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ').replace(/\. To specify a positional argument.*$/, '.').trim();
  if (err instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
    return { code: 'invalid-argument', message, exitCode: EXIT.usage };
  }
  if (isLifeboatError(err)) return { code: err.code, message, exitCode: EXIT.failure };
  // A system or library error (ENOSPC, EACCES, SQLITE_BUSY) keeps its own code; anything else is internal.
  return { code: typeof code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(code) ? code : 'internal', message, exitCode: EXIT.failure };
}
