import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // GPU tests share one Dawn instance per file; files run in forks so a crashed
    // native device cannot take the whole run down.
    pool: 'forks',
    fileParallelism: true,
  },
});
