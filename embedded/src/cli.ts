#!/usr/bin/env node
/**
 * `lifeboat` command line: run the embedded server, mint tokens, look at jobs and snapshots,
 * verify, restore, diff, forget and collect garbage. The command table, help and exit codes are in
 * cli/spec.ts; each command is a `(input, deps)` function in cli/ that returns its result as data
 * (`--json`) and text. Errors print as one line with their code (the stack only with `--debug`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createToken } from './auth/tokens';
import { defaultDataDir, ensureDataDir, loadMasterKeys, loadSecret } from './data-dir';
import { consoleLogger, LOG_LEVELS, type LogLevel } from './logger';
import { needsMallocTuning, rerunWithMallocTuning } from './malloc-tuning';
import { mediaModeFromEnv, startEmbeddedRuntime } from './runtime';
import { FolderBlobStore } from './adapters/folder-blob-store';
import { MEDIA_MODES, WrappedKeyRing } from '@lifeboat/functions/core';
import { describeError, usageError } from './cli/cli-error';
import { intOption, stringOption, type CommandHandler, type CommandInput, type CommandResult } from './cli/command';
import { openData } from './cli/data';
import { diffCommand } from './cli/diff-command';
import { forgetCommand } from './cli/forget-command';
import { deleteSnapshotCommand, deleteUserCommand } from './cli/delete-commands';
import { gcCommand } from './cli/gc-command';
import { listJobs, listSnapshots } from './cli/list-commands';
import { progressLine } from './cli/progress';
import { restoreCommand } from './cli/restore-command';
import { commandHelp, commandSpec, EXIT, GLOBAL_OPTIONS, usageText, type CommandSpec } from './cli/spec';
import { statsCommand } from './cli/stats-command';
import { verifyCommand } from './cli/verify-command';

/** Commands that read the data folder's store; the rest are handled in `main`. */
const DATA_COMMANDS: Record<string, CommandHandler> = {
  jobs: listJobs,
  snapshots: listSnapshots,
  verify: verifyCommand,
  restore: restoreCommand,
  diff: diffCommand,
  stats: statsCommand,
  forget: forgetCommand,
  gc: gcCommand,
  'delete-snapshot': deleteSnapshotCommand,
  'delete-user': deleteUserCommand,
};

/** `lifeboat version` / `--version`. */
function versionResult(): Pick<CommandResult, 'data' | 'text'> {
  // cli.ts runs from src/ (tests) or lib/ (built): the package file is one folder up from either.
  const version = (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
  return { data: { version, node: process.version }, text: `lifeboat ${version} (node ${process.version})\n` };
}

function print(result: Pick<CommandResult, 'data' | 'text'>, json: boolean): void {
  process.stdout.write(json ? `${JSON.stringify(result.data)}\n` : result.text);
}

/** Parses a command's arguments against its table entry: unknown options and wrong argument counts are usage errors. */
function parseCommand(spec: CommandSpec, args: string[]): CommandInput {
  const options = Object.fromEntries(Object.entries({ ...GLOBAL_OPTIONS, ...spec.options }).map(([name, o]) => [name, { type: o.type }]));
  const { values, positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: { ...options, help: { type: 'boolean', short: 'h' } } });
  const input: CommandInput = { positionals, values: values as CommandInput['values'] };
  if (values['help'] === true) return input;
  const { min, max } = spec.positionals;
  if (positionals.length < min) usageError(`${spec.name} needs ${spec.args} (see \`lifeboat help ${spec.name}\`)`);
  if (positionals.length > max) usageError(`${spec.name} takes ${max === 0 ? 'no arguments' : spec.args}, got ${positionals.join(' ')}`);
  return input;
}

async function main(argv: string[], json: boolean): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    process.stdout.write(usageText());
    return EXIT.usage;
  }
  if (command === '--help' || command === '-h') {
    process.stdout.write(usageText());
    return EXIT.ok;
  }
  if (command === '--version' || command === '-V') {
    print(versionResult(), json);
    return EXIT.ok;
  }
  const spec = commandSpec(command);
  if (!spec) usageError(`unknown command ${command} (see \`lifeboat help\`)`);
  const input = parseCommand(spec, rest);
  if (input.values['help'] === true) {
    process.stdout.write(commandHelp(spec));
    return EXIT.ok;
  }
  const dataDir = stringOption(input, 'data') ?? defaultDataDir();
  const values = input.values as Record<string, string | undefined>;

  switch (command) {
    case 'help': {
      const topic = input.positionals[0];
      if (topic === undefined) {
        process.stdout.write(usageText());
        return EXIT.ok;
      }
      const about = commandSpec(topic);
      if (!about) usageError(`unknown command ${topic} (see \`lifeboat help\`)`);
      process.stdout.write(commandHelp(about));
      return EXIT.ok;
    }
    case 'version':
      print(versionResult(), json);
      return EXIT.ok;
    case 'serve': {
      if (needsMallocTuning()) return rerunWithMallocTuning();
      const port = Number(values['port'] ?? process.env['LIFEBOAT_PORT'] ?? 8787);
      if (!Number.isInteger(port) || port < 0 || port > 65535) usageError(`--port must be 0..65535, got ${values['port']}`);
      const level = (values['log'] ?? 'info') as LogLevel;
      if (!LOG_LEVELS.includes(level)) usageError(`--log must be one of ${LOG_LEVELS.join(', ')}`);
      const mediaMode = values['media-mode'] ?? process.env['LIFEBOAT_MEDIA_MODE'];
      if (mediaMode !== undefined && mediaMode !== '' && !(MEDIA_MODES as readonly string[]).includes(mediaMode)) usageError(`--media-mode must be one of ${MEDIA_MODES.join(', ')}`);
      // Listening for the signals before the ready line goes out, so a stop sent as soon as it is
      // read is a clean stop, not the default (fatal) action.
      const stopRequested = new Promise<void>((resolveStop) => {
        let firstAt: number | null = null;
        const stop = () => {
          // Ctrl+C reaches this process twice under rerunWithMallocTuning (from the terminal and
          // passed on by its parent): a repeat within 2 s is that echo; a later one forces the exit.
          if (firstAt !== null && Date.now() - firstAt > 2000) process.exit(130);
          firstAt ??= Date.now();
          resolveStop();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
        // Run by rerunWithMallocTuning: stop with the process that started this one.
        if (process.connected) process.once('disconnect', stop);
      });
      const runtime = await startEmbeddedRuntime({
        dataDir,
        port,
        ...(values['host'] ? { host: values['host'] } : {}),
        logger: consoleLogger(level),
        mediaMode: mediaModeFromEnv(mediaMode),
      });
      process.stdout.write(`Lifeboat listening on ${runtime.url} (data: ${dataDir})\n`);
      process.stdout.write(`Get a token: npm run lifeboat -- token --uid alice\n`);
      const admin = createToken(runtime.tokenSecret, { uid: 'lifeboat-admin', admin: true });
      process.stdout.write(`Dashboard (admin link, valid 24 h): ${runtime.url}/dashboard#token=${admin}\n`);
      await stopRequested;
      await runtime.stop();
      process.stdout.write('Lifeboat stopped\n');
      return 0;
    }
    case 'token': {
      const admin = input.values['admin'] === true;
      const uid = stringOption(input, 'uid') ?? (admin ? 'lifeboat-admin' : usageError('token needs --uid (or --admin)'));
      const ttl = intOption(input, 'ttl', 1, 10 * 365 * 86_400, 86_400);
      ensureDataDir(dataDir);
      const token = createToken(loadSecret(dataDir), { uid, ttlSeconds: ttl, ...(admin ? { admin: true } : {}) });
      print({ data: { uid, admin, token, expiresAt: Date.now() + ttl * 1000 }, text: `${token}\n` }, json);
      return EXIT.ok;
    }
    case 'rewrap-keys': {
      const paths = ensureDataDir(dataDir);
      const keys = loadMasterKeys(dataDir);
      const changed = await new WrappedKeyRing(new FolderBlobStore(paths.blobs), keys).rewrapAll();
      print({ data: { rewrapped: changed, masterKey: keys.current.id }, text: `Re-wrapped ${changed} data key(s) under master key ${keys.current.id}\n` }, json);
      return EXIT.ok;
    }
    default: {
      const handler = DATA_COMMANDS[command] as CommandHandler;
      const data = openData(dataDir);
      try {
        const progressOn = process.stdout.isTTY === true && !json;
        const result = await handler(input, { data, progress: (label, total) => progressLine(process.stdout, progressOn, label, total) });
        print(result, json);
        return result.exitCode;
      } finally {
        data.close();
      }
    }
  }
}

const argv = process.argv.slice(2);
// Read before parsing, so an error in parsing is reported the way the caller asked.
const json = argv.includes('--json');
const debug = argv.includes('--debug');
main(argv, json).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const { code, message, exitCode } = describeError(err);
    if (json) process.stderr.write(`${JSON.stringify({ error: { code, message, exitCode } })}\n`);
    else process.stderr.write(`lifeboat: ${code}: ${message}\n`);
    if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    process.exit(exitCode);
  },
);
