// The SDK (as built: dist/, what `keystack/client` resolves to) and the CLI against the real local server.
import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KeyStack, KeyStackError } from 'keystack/client'
import { LocalServer } from './server'

const run = promisify(execFile)
const server = new LocalServer()
beforeAll(() => server.start())
afterAll(() => server.dispose())

const root = path.resolve(import.meta.dirname, '../..')

async function cli(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [path.join(root, 'bin/keystack.mjs'), ...args], {
      cwd: root,
      env: { ...process.env, KEYSTACK_URL: server.url, KEYSTACK_KEY_ID: '', KEYSTACK_SECRET: '', ...env },
    })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

describe('the SDK against the real server', () => {
  it('runs a vendor day: account, keys, license, activate, validate, deactivate, kill switch', async () => {
    const operator = new KeyStack({ baseUrl: server.url, ...server.operator() })
    const { key: adminKey } = await operator.accounts.create({ name: 'SDK E2E' })
    const admin = new KeyStack({ baseUrl: server.url, keyId: adminKey.id, secret: adminKey.secret })
    const clientKey = await admin.keys.create({ scope: 'client', label: 'app 1.0' })
    const license = await admin.licenses.create({ name: 'Jane', max_machines: 1, entitlements: ['pro'] })
    const app = new KeyStack({ baseUrl: server.url, keyId: clientKey.id, secret: clientKey.secret })

    expect((await app.licenses.activate({ key: license.key, fingerprint: 'laptop' })).created).toBe(true)
    expect(await app.licenses.validate({ key: license.key, fingerprint: 'laptop' })).toMatchObject({ valid: true, code: 'VALID' })
    await expect(app.licenses.activate({ key: license.key, fingerprint: 'desktop' })).rejects.toMatchObject({ status: 409, code: 'machine/limit-reached' })
    expect((await app.licenses.heartbeat({ key: license.key, fingerprint: 'laptop' })).last_heartbeat_at).not.toBeNull()
    await app.licenses.deactivate({ key: license.key, fingerprint: 'laptop' })
    expect((await app.licenses.activate({ key: license.key, fingerprint: 'desktop' })).created).toBe(true)

    await admin.licenses.suspend(license.id)
    expect((await app.licenses.validate({ key: license.key })).code).toBe('SUSPENDED')
    await admin.keys.revoke(clientKey.id)
    const error = await app.licenses.validate({ key: license.key }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(KeyStackError)
    expect(error).toMatchObject({ status: 401, code: 'api/key-revoked' })
  })
})

describe('the keystack CLI', () => {
  it('creates an account with the operator key from .dev.vars, with no flags', async () => {
    const { code, stdout } = await cli(['account', 'create', '--name', 'CLI Co'])
    expect(code).toBe(0)
    expect(stdout).toMatch(/acc_[0-9A-Z]{26}\s+CLI Co/)
    expect(stdout).toMatch(/key_[0-9A-Z]{26}\s+admin\s+kss_/)
  })

  it('prints the JSON answer unchanged with --json, and tables otherwise', async () => {
    const created = await cli(['account', 'create', '--json'])
    const { key } = JSON.parse(created.stdout)
    const admin = { KEYSTACK_KEY_ID: key.id, KEYSTACK_SECRET: key.secret }
    const lic = await cli(['license', 'create', '--name', 'Jane', '--max-machines', '2', '--entitlement', 'pro', '--entitlement', 'beta', '--json'], admin)
    expect(lic.code).toBe(0)
    const { license } = JSON.parse(lic.stdout)
    expect(license).toMatchObject({ name: 'Jane', max_machines: 2, entitlements: ['pro', 'beta'] })

    const list = await cli(['license', 'list'], admin)
    expect(list.stdout.split('\n')[0]).toMatch(/^ID\s+KEY\s+NAME\s+STATUS/)
    expect(list.stdout).toContain(license.key)

    const valid = await cli(['validate', license.key], admin)
    expect(valid.stdout).toMatch(/^valid: VALID/)
    expect((await cli(['license', 'suspend', license.id], admin)).code).toBe(0)
    expect((await cli(['validate', license.key, '--fingerprint', 'x'], admin)).stdout).toMatch(/^not valid: SUSPENDED/)

    const raw = await cli(['request', 'GET', `/v1/licenses/${license.id}`], admin)
    expect(JSON.parse(raw.stdout).license.status).toBe('suspended')
    const clientKey = JSON.parse((await cli(['key', 'create', '--scope', 'client', '--json'], admin)).stdout).key
    expect((await cli(['key', 'list'], admin)).stdout).toContain(clientKey.id)
  })

  it('fails with a one-line error carrying the code, and a non-zero exit', async () => {
    const bad = await cli(['key', 'list'], { KEYSTACK_KEY_ID: 'key_nobody', KEYSTACK_SECRET: 'kss_x' })
    expect(bad.code).toBe(1)
    expect(bad.stderr.trim()).toMatch(/^keystack: api\/key-unknown: .+ \(request [\w-]+\)$/)
    const usage = await cli(['license', 'frobnicate'])
    expect(usage.code).toBe(2)
    expect(usage.stderr).toContain('unknown command')
  })
})
