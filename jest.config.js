/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testTimeout: 30000,
  setupFilesAfterEnv: ['<rootDir>/test/helpers/cleanup.ts'],
  // One file at a time: the integration suites flood the loopback with thousands of connections
  // and must not compete with each other for ports, descriptors or CPU (and serial is no slower).
  maxWorkers: 1,
};
