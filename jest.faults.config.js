/* global module */
/**
 * The fault suite (`npm run test:faults`): crash, outage, multi-worker, provider-fault and fuzzing
 * scenarios against the compiled server on fresh MariaDB databases. Long timeouts, one file at a time.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests/faults'],
  testMatch: ['**/*.fault.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', isolatedModules: false, diagnostics: { warnOnly: false } }],
  },
  globalSetup: '<rootDir>/tests/faults/global-setup.ts',
  setupFiles: ['reflect-metadata'],
  testTimeout: 600000,
  maxWorkers: 1,
};
