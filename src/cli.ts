// The `pws` command line: flags → the environment variables of the same meaning (flags beat env,
// env beats .env), parsed with node:util's parseArgs.

import { parseArgs } from 'node:util';
import { VARIABLES } from './variables';

export type CliResult =
  | { kind: 'run' | 'bounds' | 'check'; env: Record<string, string>; fromFlag: Record<string, string> }
  | { kind: 'help'; all: boolean }
  | { kind: 'version' }
  | { kind: 'error'; message: string };

export const HELP = `Usage: pws [dir] [options]

Serve the files of [dir] over HTTP, one worker process per CPU. Without [dir]: ./static,
or the current folder where there is no ./static.

Server
  -p, --port N              port to listen on (default 9000; 0 picks a free one)
  -H, --host H              interface to bind (default: all)
  -w, --workers N|auto      worker processes (default auto: one per CPU)
      --tls-cert F          PEM certificate: serve HTTPS (with --tls-key)
      --tls-key F           PEM private key
      --user U              started as root: workers run as user U (ports 80, 443)
Site
      --spa                 serve index.html for unknown extension-less paths
      --listing             list folders that have no index.html
      --clean-urls          serve /about from about.html (and redirect /about.html)
      --cors                allow every origin (Access-Control-Allow-Origin: *)
      --no-compression      do not compress responses on the fly
      --cache-control V     Cache-Control of file responses
Logs
      --access-log DEST     stdout, off, or a file (default stdout)
      --log-format F        combined or json (default combined)
Other
      --env-file F          read settings from F instead of ./.env
      --health-path P       answer P with 200 ok for load balancers (e.g. /healthz)
      --headers-file F      JSON file of response fields per path glob
      --immutable G         glob of hashed assets cached for a year as immutable
      --redirect-port N     with TLS: a plain-HTTP port that redirects to HTTPS
      --check               check the configuration and the files it names, print
                            the result and exit (0 when it is good): run it before a
                            reload, as nginx -t
      --bounds              print the memory bound of everything a client can make a
                            worker hold, at these settings, and exit
  -h, --help                show this help (--help all: every option)
  -v, --version             show the version

Every setting has an option and an environment variable of the same meaning (--max-connections
and MAX_CONNECTIONS, ...); see .env.example. Options beat the environment, which beats .env.`;

/** The flag of a variable: its name in lower case with dashes (MAX_URI_BYTES → --max-uri-bytes). */
export function flagOf(variable: string): string {
  return variable.toLowerCase().replace(/_/g, '-');
}

/** Shorter names for a few flags, as in the help above. */
const ALIASES: Record<string, string> = { immutable: 'IMMUTABLE_PATTERN', 'redirect-port': 'HTTP_REDIRECT_PORT', user: 'RUN_USER', group: 'RUN_GROUP' };
/** Variables whose generated flag would clash with a switch of the same name (--cors sets *). */
const SWITCHES = new Set(['CORS', 'CLEAN_URLS']);

/** `pws --help all`: every option, one per variable, with its default and meaning. */
export function helpAll(): string {
  const rows = VARIABLES.filter((v) => !SWITCHES.has(v.name)).map((v) => {
    const flag = `--${flagOf(v.name)} V`;
    return `  ${flag.padEnd(34)}${v.meaning}${v.fallback === '' ? '' : ` (default ${v.fallback})`}`;
  });
  return `Usage: pws [dir] [options]\n\nEvery option (each sets the variable of the same name in capitals):\n${rows.join('\n')}\n  --cors                            allow every origin (CORS=*; a list of origins: CORS=...)\n  --clean-urls                      CLEAN_URLS=on\n  --spa, --listing, --no-compression, --check, --bounds, --env-file F, -h, -v: see pws --help`;
}

/** Every variable's flag (a string), its aliases, and the switches and commands. */
const STRING_FLAGS: Record<string, string> = {
  ...Object.fromEntries(VARIABLES.filter((v) => !SWITCHES.has(v.name)).map((v) => [flagOf(v.name), v.name])),
  ...ALIASES,
  'env-file': 'ENV_FILE',
};

const OPTIONS = {
  ...Object.fromEntries(Object.keys(STRING_FLAGS).map((flag) => [flag, { type: 'string' as const }])),
  port: { type: 'string', short: 'p' },
  host: { type: 'string', short: 'H' },
  workers: { type: 'string', short: 'w' },
  cors: { type: 'boolean' },
  spa: { type: 'boolean' },
  listing: { type: 'boolean' },
  'clean-urls': { type: 'boolean' },
  'no-compression': { type: 'boolean' },
  bounds: { type: 'boolean' },
  check: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

/**
 * Parses argv (without node and the script). Returns the variables the flags set, with
 * `fromFlag` naming the flag behind each (for error messages), or help/version/an error.
 */
export function parseCli(argv: readonly string[]): CliResult {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    // parseArgs explains itself at length; its first sentence names the problem.
    return {
      kind: 'error',
      message:
        String((err as Error).message)
          .split('\n')[0]
          ?.split('. ')[0] ?? 'bad arguments',
    };
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help', all: positionals[0] === 'all' };
  if (values.version) return { kind: 'version' };
  if (positionals.length > 1) return { kind: 'error', message: `one folder to serve, not ${positionals.length}: ${positionals.join(' ')}` };

  const env: Record<string, string> = {};
  const fromFlag: Record<string, string> = {};
  const set = (name: string, value: string, flag: string): void => {
    env[name] = value;
    fromFlag[name] = flag;
  };
  const [dir] = positionals;
  if (dir !== undefined) set('STATIC_DIR', dir, '[dir]');
  for (const [flag, name] of Object.entries(STRING_FLAGS)) {
    // The generated flags are not in parseArgs's inferred type: look them up as a record.
    const value: unknown = (values as Record<string, unknown>)[flag];
    if (typeof value === 'string') {
      if (value === '') return { kind: 'error', message: `--${flag} needs a value` };
      set(name, value, `--${flag}`);
    }
  }
  if (values.cors) set('CORS', '*', '--cors');
  if (values.spa) set('SPA_FALLBACK', 'index.html', '--spa');
  if (values.listing) set('DIRECTORY_LISTING', 'on', '--listing');
  if (values['clean-urls']) set('CLEAN_URLS', 'on', '--clean-urls');
  if (values['no-compression']) set('COMPRESSION', 'off', '--no-compression');
  if ((env.TLS_CERT === undefined) !== (env.TLS_KEY === undefined)) return { kind: 'error', message: '--tls-cert and --tls-key go together' };
  if (values.bounds && values.check) return { kind: 'error', message: '--bounds and --check go alone' };
  return { kind: values.bounds ? 'bounds' : values.check ? 'check' : 'run', env, fromFlag };
}
