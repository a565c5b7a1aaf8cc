import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start servers and Redis processes; two workers match the 2-core CI box.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
})
