// Runs the README's code samples exactly as they stand there, against the real local server.
import { execFile } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KeyStack } from 'keystack/client'
import { LocalServer } from './server'

const run = promisify(execFile)
const root = path.resolve(import.meta.dirname, '../..')
const readme = readFileSync(path.join(root, 'README.md'), 'utf8')
const server = new LocalServer()

/** The fenced block after `<!-- readme-test: NAME -->`, with the list indentation removed. */
function sample(name: string): string {
  const at = readme.indexOf(`<!-- readme-test: ${name} -->`)
  expect(at, `README sample ${name}`).toBeGreaterThan(-1)
  const block = readme.slice(at).match(/\n( *)```\w*\n([\s\S]*?)\n *```/)!
  const indent = block[1].length
  return block[2].split('\n').map((line) => line.slice(indent)).join('\n') + '\n'
}

let env: Record<string, string>
let licenseKey: string
beforeAll(async () => {
  await server.start()
  const operator = new KeyStack({ baseUrl: server.url, ...server.operator() })
  const { key } = await operator.accounts.create({ name: 'README Co' })
  const admin = new KeyStack({ baseUrl: server.url, keyId: key.id, secret: key.secret })
  const clientKey = await admin.keys.create({ scope: 'client' })
  licenseKey = (await admin.licenses.create({ name: 'Jane Doe' })).key
  env = { ...process.env, KEYSTACK_URL: server.url, KEYSTACK_KEY_ID: clientKey.id, KEYSTACK_SECRET: clientKey.secret } as Record<string, string>
})
afterAll(() => server.dispose())

describe('README samples', () => {
  const dir = path.join(root, 'test/e2e/.tmp')
  mkdirSync(dir, { recursive: true })

  it('the 10-line Node script with the SDK validates a license', async () => {
    const file = path.join(dir, 'validate.mjs')
    writeFileSync(file, sample('validate.mjs'))
    expect(sample('validate.mjs').trim().split('\n').length).toBeLessThanOrEqual(10)
    const ok = await run(process.execPath, [file, licenseKey], { env })
    expect(ok.stdout.trim()).toBe('Licensed')
    const unknown = await run(process.execPath, [file, 'NOT-A-KEY'], { env })
    expect(unknown.stdout.trim()).toBe('Not licensed: NOT_FOUND')
  })

  it('the plain Python version (hmac + urllib) validates the same license', async () => {
    const file = path.join(dir, 'validate.py')
    writeFileSync(file, sample('validate.py'))
    const ok = await run('python3', [file, licenseKey], { env })
    expect(ok.stdout.trim()).toBe('Licensed')
  })
})
