/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/test/tsconfig.json' }] },
  // Interop and timeout tests wait on real sockets and real peers; the per-test limits are set where
  // they are long.
  testTimeout: 30000,
  // One suite at a time: the interop, timeout and flood suites measure real time on loopback, and on a
  // 2-core machine a second suite (a sanitizer build, a 4095-peer flood) beside them skews what they see.
  maxWorkers: 1,
};
