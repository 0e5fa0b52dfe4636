const fs = require('node:fs');

const { execFileSync } = require('node:child_process');

// The browser test needs Debian's Chromium; .ci/run installs it, so CI always runs it.
const hasChromium = fs.existsSync('/usr/bin/chromium');
// test/external checks PWS with other implementations' tools (zstd, curl, nghttp); .ci/run
// installs them and refuses to go on without them, so CI always runs it.
const onPath = (tool) => {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const hasTools = ['zstd', 'curl', 'nghttp'].every(onPath);
// test/process/prometheus.test.ts runs promtool and a Prometheus server (Debian's prometheus
// package); .ci/run installs it, so CI always runs it.
const hasPrometheus = fs.existsSync('/usr/bin/prometheus') && fs.existsSync('/usr/bin/promtool');

/** What every project shares: TypeScript through ts-jest, temporary folders removed after each file. */
const common = {
  testEnvironment: 'node',
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  setupFilesAfterEnv: ['<rootDir>/test/helpers/cleanup.ts'],
  testTimeout: 30000,
};

/**
 * Three projects (`npm test` runs the first two in parallel, then the third one file at a time):
 *   unit      pure modules, no sockets
 *   features  the whole request path in-process on a port-0 server (test/helpers/in-process.ts),
 *             and test/external: the same, checked with zstd, curl and nghttp where installed
 *   process   spawned servers: cluster, signals, pm2, the CLI, floods, the browser — these flood
 *             the loopback or count a process's descriptors, so they must not run beside each other
 *
 * @type {import('jest').Config}
 */
module.exports = {
  testTimeout: 30000,
  projects: [
    { ...common, displayName: 'unit', roots: ['<rootDir>/test/unit'] },
    { ...common, displayName: 'features', roots: ['<rootDir>/test/features', ...(hasTools ? ['<rootDir>/test/external'] : [])] },
    {
      ...common,
      displayName: 'process',
      roots: ['<rootDir>/test/process', ...(hasChromium ? ['<rootDir>/test/browser'] : [])],
      testPathIgnorePatterns: ['/node_modules/', ...(hasPrometheus ? [] : ['/test/process/prometheus\\.test\\.ts$'])],
    },
  ],
};
