#!/usr/bin/env node
// Entry point of `npm start` and pm2 (the `pws` command is bin.ts): the node:cluster primary forks workers; a worker (ours or pm2's) serves.

import './sigusr1';
import cluster from 'node:cluster';
import fs from 'node:fs';
import path from 'node:path';
import { boundsTable } from './bounds';
import { HELP, helpAll, parseCli } from './cli';
import { checkReport } from './check';
import { ConfigError, loadConfig, readEnvFile, VARIABLES, type Config } from './config';
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
function configOrExit(flags: Record<string, string>, fromFlag: Record<string, string>, siteFiles = true): Config | null {
  try {
    return loadConfig({ ...process.env, ...flags }, process.cwd(), { siteFiles });
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

/**
 * Runs PWS: the primary (flags, configuration, workers) or a worker. `command` is true for the
 * `pws` command (bin.ts): with no folder named anywhere and no ./static, it serves the current
 * folder, as serve, http-server and sirv do; `npm start` and pm2 keep ./static and its error.
 */
export function main(command: boolean): void {
  if (cluster.isPrimary) {
    const { kind, env, fromFlag } = primaryFlags();
    if (command && kind !== 'bounds' && servesCurrentFolder(env)) {
      env.STATIC_DIR = '.';
      fromFlag.STATIC_DIR = '[dir]';
    }
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
    // The primary (ours, or pm2's ecosystem file) checked the site files; a worker serves without broken ones.
    const config = configOrExit({}, {}, false);
    if (config !== null) runWorker(config);
  }
}

/**
 * Whether STATIC_DIR is left to its default everywhere (flags, environment, .env) and nothing
 * called ./static is there (not even a dangling link: a release link caught mid-deploy must not
 * make the whole project public). Never for `/`, where a service's working directory defaults to.
 */
function servesCurrentFolder(flags: Record<string, string>): boolean {
  if (flags.STATIC_DIR !== undefined || process.env.STATIC_DIR?.trim() || process.cwd() === path.parse(process.cwd()).root) return false;
  let file: Record<string, string>;
  try {
    file = readEnvFile(process.cwd(), (flags.ENV_FILE ?? process.env.ENV_FILE)?.trim());
  } catch {
    return false; // loading the configuration reports it
  }
  if (file.STATIC_DIR?.trim()) return false;
  return fs.lstatSync(path.resolve(VARIABLES.find((v) => v.name === 'STATIC_DIR')?.fallback ?? './static'), { throwIfNoEntry: false }) === undefined;
}

// `node dist/main.js` (npm start, pm2, the Dockerfile): ./static by default.
if (require.main === module) main(false);
