import path from 'node:path'
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin'
import { defineConfig } from 'vitest/config'

// Tests inside workerd: the real Worker, the real D1 and the real replay Durable Object.
export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, 'migrations'))
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: './wrangler.toml' },
        miniflare: {
          // Fixed test credentials; never the developer's .dev.vars.
          bindings: {
            TEST_MIGRATIONS: migrations,
            KEYSTACK_MASTER_KEY: 'dGVzdC1tYXN0ZXIta2V5LW5vdC1mb3ItcHJvZHVjdGlvbi0wMDAwMDA',
            KEYSTACK_OPERATOR_KEY_ID: 'key_operator_test',
            KEYSTACK_OPERATOR_SECRET: 'kss_operator-test-secret-0000000000000000000000',
          },
        },
      }),
    ],
    test: {
      include: ['test/**/*.test.ts'],
      exclude: ['test/e2e/**'],
      setupFiles: ['./test/apply-migrations.ts'],
    },
  }
})
