const fs = require('node:fs');

// The browser test needs Debian's Chromium; .ci/run installs it, so CI always runs it.
const hasChromium = fs.existsSync('/usr/bin/chromium');

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', ...(hasChromium ? [] : ['<rootDir>/test/browser/'])],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testTimeout: 30000,
  setupFilesAfterEnv: ['<rootDir>/test/helpers/cleanup.ts'],
  // One file at a time: the integration suites flood the loopback with thousands of connections
  // and must not compete with each other for ports, descriptors or CPU (and serial is no slower).
  maxWorkers: 1,
};
