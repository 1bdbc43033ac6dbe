/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/test/tsconfig.json' }] },
  // Interop and timeout tests wait on real sockets and real peers; the per-test limits are set where
  // they are long.
  testTimeout: 30000,
  // Two cores: one jest worker per core keeps loopback timing stable enough.
  maxWorkers: 2,
};
