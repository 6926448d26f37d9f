/** Jest runs TypeScript through swc; type checking is `npm run typecheck`. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  testTimeout: 120000,
  // Workflow and e2e suites each start their own dev server; two at a time fits 2 cores.
  maxWorkers: 2,
};
