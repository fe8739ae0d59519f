import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // Workspace packages resolve to their TypeScript sources in tests (the "source" export condition).
    conditions: ['source'],
    // One graphql module for Nexus and the tests, or graphql sees "another module or realm".
    alias: { graphql: require.resolve('graphql') },
  },
  ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
  test: {
    include: ['libs/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
