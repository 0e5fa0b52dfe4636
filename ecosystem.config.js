// pm2 process file: `npx pm2 start ecosystem.config.js`, then `npx pm2 reload pws` to deploy.
//
// Cluster mode makes pm2's daemon the node:cluster primary: every instance runs dist/main.js as a
// PWS worker on the shared port. Settings (PORT, STATIC_DIR, ...) come from .env in this folder
// and from the shell that runs pm2; nothing here overrides them.

const SHUTDOWN_TIMEOUT_MS = Number(process.env.SHUTDOWN_TIMEOUT_MS) || 10000;
const workers = process.env.WORKERS;

module.exports = {
  apps: [
    {
      name: 'pws',
      script: 'dist/main.js',
      cwd: __dirname,
      exec_mode: 'cluster',
      // WORKERS (a number) overrides the instance count; unset or `auto` runs one per CPU.
      instances: workers && workers !== 'auto' ? Number(workers) : 'max',
      // An instance counts as online only after it sent 'ready', i.e. once its socket listens.
      wait_ready: true,
      listen_timeout: 10000,
      // SIGINT starts a graceful drain; pm2 waits the drain deadline plus a margin before SIGKILL.
      kill_timeout: SHUTDOWN_TIMEOUT_MS + 2000,
      // Above the worst case of a worker at the default limits (`npx pws --bounds`: 1.36 GiB plus
      // the runtime), so pm2 restarts a worker that leaks, never one working within its bounds.
      max_memory_restart: '1536M',
      // Crash loops back off exponentially instead of respawning as fast as the build fails.
      exp_backoff_restart_delay: 100,
      merge_logs: true,
      time: true,
      // A fixed glibc mmap threshold, as PWS's own primary sets it (src/cluster/primary.ts): large
      // Buffers freed after a burst go back to the system instead of staying in RSS.
      env: {
        NODE_ENV: 'development',
        MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ || '131072',
      },
      env_production: {
        NODE_ENV: 'production',
        MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ || '131072',
      },
    },
  ],

  deploy: {
    production: {
      user: 'deploy',
      host: ['web1.example.com'],
      ref: 'origin/main',
      repo: 'git@example.com:pws/pws.git',
      path: '/srv/pws',
      'post-deploy': 'npm ci && npm run build && npx pm2 reload ecosystem.config.js --env production',
    },
  },
};
