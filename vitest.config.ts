import path from 'node:path'
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin'
import { defineConfig } from 'vitest/config'

// Tests inside workerd: the real Worker, the real D1 and the real replay Durable Object.
// Fixed test credentials; never the developer's .dev.vars.
const TEST_SECRETS = {
  KEYSTACK_MASTER_KEY: 'dGVzdC1tYXN0ZXIta2V5LW5vdC1mb3ItcHJvZHVjdGlvbi0wMDAwMDA',
  KEYSTACK_OPERATOR_KEY_ID: 'key_operator_test',
  KEYSTACK_OPERATOR_SECRET: 'kss_operator-test-secret-0000000000000000000000',
  KEYSTACK_JWT_SECRET: 'test-jwt-secret-not-for-production-0000000000',
}
// wrangler.toml lists these as required secrets; wrangler looks for them in process.env.
Object.assign(process.env, TEST_SECRETS)

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, 'migrations'))
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: './wrangler.toml' },
        miniflare: {
          bindings: { TEST_MIGRATIONS: migrations, ...TEST_SECRETS },
        },
      }),
    ],
    test: {
      include: ['test/**/*.test.ts'],
      exclude: ['test/e2e/**', 'test/browser/**'],
      setupFiles: ['./test/apply-migrations.ts'],
    },
  }
})
