/**
 * The `lifeboat` command line as a function: parses the arguments against the command table
 * (spec.ts), opens the data the command reads (the embedded data folder, or a deployment with
 * `--project`), runs the command and prints its result as text or JSON; errors print as one line
 * with their code. `cli.ts` runs it for the process; tests run it in-process with fake clients.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MEDIA_MODES, parseAllowedOrigins, WrappedKeyRing } from '@lifeboat/engine/core';
import { createToken } from '../auth/tokens';
import { FolderBlobStore } from '../adapters/folder-blob-store';
import { defaultDataDir, ensureDataDir, loadMasterKeys, loadSecret } from '../data-dir';
import { consoleLogger, LOG_LEVELS, type LogLevel } from '../logger';
import { needsMallocTuning, rerunWithMallocTuning } from '../malloc-tuning';
import { mediaModeFromEnv, startEmbeddedRuntime } from '../runtime';
import { adminCommand } from './admin-command';
import { describeError, usageError } from './cli-error';
import { intOption, stringOption, type CommandHandler, type CommandInput, type CommandResult } from './command';
import { openData, type CliData } from './data';
import { checkCommand } from './check-command';
import { deleteSnapshotCommand, deleteUserCommand } from './delete-commands';
import { diffCommand } from './diff-command';
import { doctorCommand } from './doctor-command';
import { smokeCommand } from './smoke-command';
import { adcGoogleApi } from '../doctor/google-api';
import type { FirebaseClients, FirebaseTarget } from './firebase-data';
import { forgetCommand } from './forget-command';
import { gcCommand } from './gc-command';
import { listJobs, listSnapshots } from './list-commands';
import { progressLine, type ProgressStream } from './progress';
import { restoreCommand } from './restore-command';
import { rewrapFanOut } from './rewrap-command';
import { commandHelp, commandSpec, EXIT, GLOBAL_OPTIONS, usageText, type CommandSpec } from './spec';
import { statsCommand } from './stats-command';
import { verifyCommand } from './verify-command';

/** Commands that read stored data, embedded or on a deployment. */
const DATA_COMMANDS: Record<string, CommandHandler> = {
  jobs: listJobs,
  snapshots: listSnapshots,
  verify: verifyCommand,
  restore: restoreCommand,
  diff: diffCommand,
  stats: statsCommand,
  forget: forgetCommand,
  gc: gcCommand,
  check: checkCommand,
  'delete-snapshot': deleteSnapshotCommand,
  'delete-user': deleteUserCommand,
  admin: adminCommand,
};

/** Commands of the embedded runtime alone: they make no sense against a deployment. */
const EMBEDDED_ONLY = new Set(['serve', 'token', 'smoke']);

/** Commands that take `--project` as their own option (the project to check), not as the place to work on. */
const OWN_PROJECT = new Set(['doctor']);

export interface CliIo {
  stdout: ProgressStream;
  stderr: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
}

export interface CliOptions {
  /** Connects to a deployment (`--project`). @default Application Default Credentials (firebase-data.ts) */
  connectFirebase?: (target: FirebaseTarget, env: NodeJS.ProcessEnv) => FirebaseClients;
  /** How often rewrap-keys looks at its tasks' progress. @default 2000 */
  pollMs?: number;
}

/** `lifeboat version` / `--version`. */
function versionResult(): Pick<CommandResult, 'data' | 'text'> {
  // main.ts runs from src/cli (tests) or lib/cli (built): the package file is two folders up from either.
  const version = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  return { data: { version, node: process.version }, text: `lifeboat ${version} (node ${process.version})\n` };
}

/** Parses a command's arguments against its table entry: unknown options and wrong argument counts are usage errors. */
function parseCommand(spec: CommandSpec, args: string[]): CommandInput {
  const all = { ...GLOBAL_OPTIONS, ...spec.options };
  const options = Object.fromEntries(Object.entries(all).map(([name, o]) => [name, { type: o.type }]));
  // An option that may be given bare (`--read-data`) gets its meaning as a value (`--read-data=100%`).
  const bare = new Map<string, string>(Object.entries(all).flatMap(([name, o]) => (o.bareValue !== undefined ? [[`--${name}`, `--${name}=${o.bareValue}`] as const] : [])));
  const given = args.map((arg) => bare.get(arg) ?? arg);
  const { values, positionals } = parseArgs({ args: given, allowPositionals: true, strict: true, options: { ...options, help: { type: 'boolean', short: 'h' } } });
  const input: CommandInput = { positionals, values: values as CommandInput['values'] };
  if (values['help'] === true) return input;
  const { min, max } = spec.positionals;
  if (positionals.length < min) usageError(`${spec.name} needs ${spec.args} (see \`lifeboat help ${spec.name}\`)`);
  if (positionals.length > max) usageError(`${spec.name} takes ${max === 0 ? 'no arguments' : spec.args}, got ${positionals.join(' ')}`);
  return input;
}

/** The deployment named by `--project` and its companions, or null. */
function firebaseTarget(input: CommandInput): FirebaseTarget | null {
  const projectId = stringOption(input, 'project');
  if (projectId === undefined) return null;
  if (!/^[a-z][a-z0-9-]{4,61}[a-z0-9]$/.test(projectId)) usageError(`--project must be a Google Cloud project id (6-30 lower-case letters, digits, hyphens), got ${projectId}`);
  const target: FirebaseTarget = { projectId };
  for (const [option, field] of [['bucket', 'bucket'], ['database', 'database'], ['region', 'region'], ['service-account', 'serviceAccount'], ['firestore-root', 'root']] as const) {
    const value = stringOption(input, option);
    if (value !== undefined) target[field] = value;
  }
  return target;
}

async function main(argv: string[], json: boolean, io: CliIo, options: CliOptions): Promise<number> {
  const print = (result: Pick<CommandResult, 'data' | 'text'>) => io.stdout.write(json ? `${JSON.stringify(result.data)}\n` : result.text);
  const [command, ...rest] = argv;
  if (command === undefined) {
    io.stdout.write(usageText());
    return EXIT.usage;
  }
  if (command === '--help' || command === '-h') {
    io.stdout.write(usageText());
    return EXIT.ok;
  }
  if (command === '--version' || command === '-V') {
    print(versionResult());
    return EXIT.ok;
  }
  const spec = commandSpec(command);
  if (!spec) usageError(`unknown command ${command} (see \`lifeboat help\`)`);
  const input = parseCommand(spec, rest);
  if (input.values['help'] === true) {
    io.stdout.write(commandHelp(spec));
    return EXIT.ok;
  }
  const target = OWN_PROJECT.has(command) ? null : firebaseTarget(input);
  if (target && EMBEDDED_ONLY.has(command)) usageError(`${command} is the embedded runtime's; it takes no --project`);
  if (target && input.values['data'] !== undefined) usageError('--data and --project name two different places: give one');
  const dataDir = stringOption(input, 'data') ?? defaultDataDir();
  const values = input.values as Record<string, string | undefined>;

  switch (command) {
    case 'help': {
      const topic = input.positionals[0];
      if (topic === undefined) {
        io.stdout.write(usageText());
        return EXIT.ok;
      }
      const about = commandSpec(topic);
      if (!about) usageError(`unknown command ${topic} (see \`lifeboat help\`)`);
      io.stdout.write(commandHelp(about));
      return EXIT.ok;
    }
    case 'version':
      print(versionResult());
      return EXIT.ok;
    case 'serve': {
      if (needsMallocTuning()) return rerunWithMallocTuning();
      const port = Number(values['port'] ?? io.env['LIFEBOAT_PORT'] ?? 8787);
      if (!Number.isInteger(port) || port < 0 || port > 65535) usageError(`--port must be 0..65535, got ${values['port']}`);
      const level = (values['log'] ?? 'info') as LogLevel;
      if (!LOG_LEVELS.includes(level)) usageError(`--log must be one of ${LOG_LEVELS.join(', ')}`);
      const mediaMode = values['media-mode'] ?? io.env['LIFEBOAT_MEDIA_MODE'];
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
        ...(values['allowed-origins'] !== undefined ? { allowedOrigins: parseAllowedOrigins(values['allowed-origins']) } : {}),
        mediaMode: mediaModeFromEnv(mediaMode),
        logger: consoleLogger(level),
      });
      io.stdout.write(`Lifeboat listening on ${runtime.url} (data: ${dataDir})\n`);
      io.stdout.write(`Get a token: npm run lifeboat -- token --uid alice\n`);
      const admin = createToken(runtime.tokenSecret, { uid: 'lifeboat-admin', admin: true });
      io.stdout.write(`Dashboard (admin link, valid 24 h): ${runtime.url}/dashboard#token=${admin}\n`);
      await stopRequested;
      await runtime.stop();
      io.stdout.write('Lifeboat stopped\n');
      return 0;
    }
    case 'token': {
      const admin = input.values['admin'] === true;
      const uid = stringOption(input, 'uid') ?? (admin ? 'lifeboat-admin' : usageError('token needs --uid (or --admin)'));
      const ttl = intOption(input, 'ttl', 1, 10 * 365 * 86_400, 86_400);
      ensureDataDir(dataDir);
      const token = createToken(loadSecret(dataDir), { uid, ttlSeconds: ttl, ...(admin ? { admin: true } : {}) });
      print({ data: { uid, admin, token, expiresAt: Date.now() + ttl * 1000 }, text: `${token}\n` });
      return EXIT.ok;
    }
    case 'doctor': {
      const result = await doctorCommand(input, { api: (project) => adcGoogleApi(project) });
      print(result);
      return result.exitCode;
    }
    case 'smoke': {
      // Against the embedded server: a throwaway user's token from the data folder, when there is one.
      const mintToken = existsSync(dataDir) ? () => createToken(loadSecret(dataDir), { uid: `lifeboat-smoke-${Date.now()}`, ttlSeconds: 3600 }) : undefined;
      const result = await smokeCommand(input, mintToken ? { mintToken } : {});
      print(result);
      return result.exitCode;
    }
    case 'rewrap-keys': {
      if (!target) {
        const paths = ensureDataDir(dataDir);
        const keys = loadMasterKeys(dataDir);
        const changed = await new WrappedKeyRing(new FolderBlobStore(paths.blobs), keys).rewrapAll();
        print({ data: { rewrapped: changed, masterKey: keys.current.id }, text: `Re-wrapped ${changed} data key(s) under master key ${keys.current.id}\n` });
        return EXIT.ok;
      }
      const data = openTarget(target, io, options);
      try {
        const result = await rewrapFanOut(input, { data, progress: progressOf(io, json), pollMs: options.pollMs ?? 2000, stderr: io.stderr });
        print(result);
        return result.exitCode;
      } finally {
        await data.close();
      }
    }
    default: {
      const handler = DATA_COMMANDS[command] as CommandHandler;
      if (command === 'admin' && !target) usageError('admin sets claims on a deployment\'s users: it needs --project');
      const data = target ? openTarget(target, io, options) : openData(dataDir);
      try {
        const result = await handler(input, { data, progress: progressOf(io, json) });
        print(result);
        return result.exitCode;
      } finally {
        await data.close();
      }
    }
  }
}

function progressOf(io: CliIo, json: boolean) {
  const on = io.stdout.isTTY === true && !json;
  return (label: string, total?: number) => progressLine(io.stdout, on, label, total);
}

function openTarget(target: FirebaseTarget, io: CliIo, options: CliOptions): CliData {
  // Required here: only `--project` loads the Firebase SDKs.
  const { connectFirebase, openFirebaseData } = require('./firebase-data') as typeof import('./firebase-data');
  return openFirebaseData(target, (options.connectFirebase ?? connectFirebase)(target, io.env), io.env);
}

/** Runs one command line and answers its exit code; errors are printed, never thrown. */
export async function runCli(argv: string[], io: CliIo, options: CliOptions = {}): Promise<number> {
  // Read before parsing, so an error in parsing is reported the way the caller asked.
  const json = argv.includes('--json');
  const debug = argv.includes('--debug');
  try {
    return await main(argv, json, io, options);
  } catch (err) {
    const { code, message, exitCode } = describeError(err);
    if (json) io.stderr.write(`${JSON.stringify({ error: { code, message, exitCode } })}\n`);
    else io.stderr.write(`lifeboat: ${code}: ${message}\n`);
    if (debug && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
    return exitCode;
  }
}
