// npm's "prepare" script. npm runs it in this checkout after `npm install` / `npm ci` here, before
// `npm pack` and `npm publish` (after prepack's clean build), and for `npm install -g <checkout>`,
// which links the global package to this folder and installs none of the folder's dependencies
// (npm/cli#4165). A fresh clone has neither dist/ nor node_modules/, so for that global install
// this first installs what `npm ci` would — the dependencies the linked `pws` needs when it runs,
// and TypeScript to build it (that install's own prepare builds dist/). Then it builds dist/ unless
// it is current (scripts/dist-current.cjs), so a prepare after an unchanged build costs no compile.
// Installs of the packed tarball (from a file or the registry) never run prepare: dist/ is in it.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

/** Runs npm (the one running this script, when npm runs it) in the checkout; exits if it fails. */
function npm(args, env) {
  const cli = process.env.npm_execpath;
  const [cmd, argv] = cli ? [process.execPath, [cli, ...args]] : ['npm', args];
  const r = spawnSync(cmd, argv, { cwd: root, env, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

/** Whether this checkout's own node_modules holds every runtime dependency, and TypeScript. */
function installed() {
  return [...Object.keys(pkg.dependencies ?? {}), 'typescript'].every((name) => fs.existsSync(path.join(root, 'node_modules', name, 'package.json')));
}

if (process.env.npm_config_global === 'true' && !installed()) {
  // An install in this folder, not a global one: without the settings of the `npm install -g` that
  // runs this script (npm passes them on as npm_config_* variables), keeping the others (the cache,
  // the registry, --prefer-offline). Dev dependencies even with NODE_ENV=production: the build needs them.
  const env = { ...process.env };
  for (const key of ['global', 'location', 'prefix', 'global_prefix', 'local_prefix', 'omit', 'include', 'install_links']) delete env[`npm_config_${key}`];
  npm(['ci', '--include=dev', '--no-audit', '--no-fund'], env);
}
if (spawnSync(process.execPath, [path.join(__dirname, 'dist-current.cjs'), root]).status !== 0) npm(['run', 'build'], process.env);
