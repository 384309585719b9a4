import { defineConfig } from 'vitest/config'

// End-to-end tests: Node drives the real local server, started the README way (scripts/start.mjs).
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 90_000,
    fileParallelism: false,
  },
})
