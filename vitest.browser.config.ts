import { defineConfig } from 'vitest/config'

// Browser tests: Debian's Chromium, driven by playwright-core, against the worker started with
// wrangler's unstable_startWorker (see test/browser/server.ts).
export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    environment: 'node',
    testTimeout: 90_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
})
