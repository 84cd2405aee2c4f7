#!/usr/bin/env node
/**
 * `lifeboat` command line: run the embedded server, mint tokens, look at jobs and snapshots,
 * verify, restore, diff, forget and collect garbage, embedded or on a deployment (`--project`).
 * The command table, help and exit codes are in cli/spec.ts, the run in cli/main.ts; each command
 * is a `(input, deps)` function in cli/ that returns its result as data (`--json`) and text.
 */
import { runCli } from './cli/main';

runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then((code) => process.exit(code));
