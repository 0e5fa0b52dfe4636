#!/usr/bin/env node
// Entry point and the `pws` command: the node:cluster primary forks workers; a worker (ours or pm2's) serves.

import cluster from 'node:cluster';
import { boundsTable } from './bounds';
import { HELP, helpAll, parseCli } from './cli';
import { checkReport } from './check';
import { ConfigError, loadConfig, type Config } from './config';
import { runPrimary } from './cluster/primary';
import { runWorker } from './cluster/worker';
import { VERSION } from './version';

/** Flags are parsed by the primary only; workers get their values through the environment. */
function primaryFlags(): { kind: 'run' | 'bounds' | 'check'; env: Record<string, string>; fromFlag: Record<string, string> } {
  const cli = parseCli(process.argv.slice(2));
  if (cli.kind === 'help') {
    process.stdout.write(`${cli.all ? helpAll() : HELP}\n`);
    process.exit(0);
  }
  if (cli.kind === 'version') {
    process.stdout.write(`${VERSION}\n`);
    process.exit(0);
  }
  if (cli.kind === 'error') {
    process.stderr.write(`pws: ${cli.message}\nTry 'pws --help' for the options.\n`);
    process.exit(2);
  }
  return cli;
}

/** The configuration, or null once the reason it is bad has been printed and the exit is under way. */
function configOrExit(flags: Record<string, string>, fromFlag: Record<string, string>): Config | null {
  try {
    return loadConfig({ ...process.env, ...flags });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // A bad flag value is a usage error (exit 2); a bad environment or .env value, exit 1.
    const flag = err.variable === null ? undefined : fromFlag[err.variable];
    if (flag !== undefined) {
      process.stderr.write(`pws: ${flag} ${JSON.stringify(err.value)} is invalid: ${err.why}\nTry 'pws --help' for the options.\n`);
      process.exit(2);
    }
    process.stderr.write(`pws: ${err.message}\n`);
    exitSoon(1);
    return null;
  }
}

/**
 * Exits once what was written has had a chance to leave: under pm2 a worker's stderr travels
 * over the IPC channel, and exiting at once loses the one line that says what is wrong.
 */
function exitSoon(code: number): void {
  if (process.send === undefined) process.exit(code);
  process.exitCode = code;
  setTimeout(() => process.exit(code), 250);
}

if (cluster.isPrimary) {
  const { kind, env, fromFlag } = primaryFlags();
  const config = configOrExit(env, fromFlag);
  if (config === null) {
    // The reason is printed; the process is exiting.
  } else if (kind === 'check') {
    process.stdout.write(`${checkReport(config)}\n`);
    process.exit(0);
  } else if (kind === 'bounds') {
    process.stdout.write(`Memory bounds at these settings (docs/memory.md explains them):\n\n${boundsTable(config)}\n`);
    process.exit(0);
  } else {
    // Workers read the same settings: the flags travel as environment variables.
    runPrimary(config, env);
  }
} else {
  const config = configOrExit({}, {});
  if (config !== null) runWorker(config);
}
