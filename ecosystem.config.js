// pm2 process file: `npm run pm2:start`, then `npm run pm2:reload` to deploy (README, "pm2").
//
// Cluster mode makes pm2's daemon the node:cluster primary: every instance runs dist/main.js as a
// PWS worker on the shared port. Settings (PORT, STATIC_DIR, ...) come from .env in this folder
// (or ENV_FILE) and from the shell that runs pm2, the shell winning, as everywhere in PWS: this
// file reads them with PWS's own loader, so the instance count and stop timeout pm2 uses are the
// ones the workers see. A configuration the workers would refuse stops `pm2 start` or `pm2 reload`
// of this file with one line, before anything is replaced.

const { ConfigError, loadConfig } = require('./dist/config.js');

let config;
try {
  config = loadConfig(process.env, __dirname);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`pws: ${err.message}\n`);
  process.exit(1);
}

// A fixed glibc mmap threshold, as PWS's own primary sets it (src/cluster/primary.ts): large
// Buffers freed after a burst go back to the system instead of staying in RSS.
const MALLOC_MMAP_THRESHOLD_ = process.env.MALLOC_MMAP_THRESHOLD_ || '131072';

module.exports = {
  apps: [
    {
      name: 'pws',
      script: 'dist/main.js',
      cwd: __dirname,
      exec_mode: 'cluster',
      // WORKERS: a number, or auto (one per CPU).
      instances: config.workers,
      // An instance counts as online only after it sent 'ready', i.e. once its socket listens.
      wait_ready: true,
      listen_timeout: 10000,
      // A stop is the lame duck (LAME_DUCK_MS), then the drain (SHUTDOWN_TIMEOUT_MS); pm2 waits
      // both and a margin before SIGKILL.
      kill_timeout: config.lameDuckMs + config.shutdownTimeoutMs + 2000,
      // Above the worst case of a worker at the default limits (`npx pws --bounds`: 1.36 GiB plus
      // the runtime), so pm2 restarts a worker that leaks, never one working within its bounds.
      max_memory_restart: '1536M',
      // Crash loops back off exponentially instead of respawning as fast as the build fails.
      exp_backoff_restart_delay: 100,
      merge_logs: true,
      // No pm2 time stamps: every PWS line carries its own time, and pm2 would stamp only the first
      // line of each write (access lines go out in batches).
      time: false,
      env: { NODE_ENV: 'development', MALLOC_MMAP_THRESHOLD_ },
      env_production: { NODE_ENV: 'production', MALLOC_MMAP_THRESHOLD_ },
    },
  ],

  deploy: {
    production: {
      user: 'deploy',
      host: ['web1.example.com'],
      ref: 'origin/main',
      repo: 'git@example.com:pws/pws.git',
      path: '/srv/pws',
      'post-deploy': 'npm ci && npm run build && npm run pm2:reload -- --env production',
    },
  },
};
