import type { Logger } from '@lifeboat/engine/ports';

export const LOG_LEVELS = ['silent', 'error', 'warn', 'info'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** One line per event on stderr: `time level message {fields}`. */
export function consoleLogger(level: LogLevel = 'info'): Logger {
  const rank = LOG_LEVELS.indexOf(level);
  const write = (lvl: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (LOG_LEVELS.indexOf(lvl) > rank) return;
    const extra = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
    process.stderr.write(`${new Date().toISOString()} ${lvl} ${message}${extra}\n`);
  };
  return { error: write('error'), warn: write('warn'), info: write('info') };
}
