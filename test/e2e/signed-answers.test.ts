// Answer signatures checked with an independent implementation: Node's crypto.verify, the public
// key given as a JWK, against the real local server.
import { execFile } from 'node:child_process'
import { createPublicKey, verify } from 'node:crypto'
import { mkdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KeyStack } from 'keystack/client'
import { LocalServer, signV2, type Creds } from './server'

const run = promisify(execFile)
const root = path.resolve(import.meta.dirname, '../..')
const server = new LocalServer()
let client: Creds
let admin: Creds
let publicKey: string
let licenseKey: string

beforeAll(async () => {
  await server.start()
  const operator = new KeyStack({ baseUrl: server.url, ...server.operator() })
  const { key } = await operator.accounts.create({ name: 'Independent Verify Co' })
  admin = { keyId: key.id, secret: key.secret }
  const ks = new KeyStack({ baseUrl: server.url, ...admin })
  publicKey = (await ks.accounts.get()).public_key
  const clientKey = await ks.keys.create({ scope: 'client' })
  client = { keyId: clientKey.id, secret: clientKey.secret }
  licenseKey = (await ks.licenses.create({ max_machines: 1 })).key
})
afterAll(() => server.dispose())

/** Node's own Ed25519 verification of an answer, with the public key as a JWK. */
function nodeVerifies(requestSignatureHex: string, status: number, body: Buffer, signature: string, x = publicKey): boolean {
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' })
  const signed = Buffer.concat([Buffer.from(`${requestSignatureHex}\n${status}\n`), body])
  return verify(null, signed, key, Buffer.from(signature, 'base64url'))
}

async function exchange(request: Request) {
  const requestSignatureHex = request.headers.get('X-KeyStack-Signature')!.slice(3)
  const res = await fetch(request)
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()), signature: res.headers.get('X-KeyStack-Response-Signature')!, requestSignatureHex }
}

describe('answer signatures, verified by Node crypto', () => {
  it('verify for a 200, a 4xx domain error and a 409 replay', async () => {
    const body = JSON.stringify({ key: licenseKey })
    const ok = await exchange(signV2(client, 'POST', `${server.url}/v1/licenses/validate`, body))
    expect(ok.status).toBe(200)
    expect(nodeVerifies(ok.requestSignatureHex, ok.status, ok.body, ok.signature)).toBe(true)

    const missing = await exchange(signV2(client, 'POST', `${server.url}/v1/licenses/heartbeat`, JSON.stringify({ key: licenseKey, fingerprint: 'nope' })))
    expect(missing.status).toBe(404)
    expect(nodeVerifies(missing.requestSignatureHex, missing.status, missing.body, missing.signature)).toBe(true)

    const req = signV2(client, 'POST', `${server.url}/v1/licenses/validate`, body)
    await fetch(req.clone())
    const replay = await exchange(req)
    expect(replay.status).toBe(409)
    expect(nodeVerifies(replay.requestSignatureHex, replay.status, replay.body, replay.signature)).toBe(true)

    // One byte changed, or paired with another request: no longer verifies.
    const changed = Buffer.from(ok.body)
    changed[2] ^= 0x20
    expect(nodeVerifies(ok.requestSignatureHex, ok.status, changed, ok.signature)).toBe(false)
    expect(nodeVerifies(replay.requestSignatureHex, ok.status, ok.body, ok.signature)).toBe(false)
  })
})

describe('license files end to end', () => {
  it('checkout with the CLI, verify offline with the CLI and with Node crypto', async () => {
    await new KeyStack({ baseUrl: server.url, ...client, publicKey }).licenses.activate({ key: licenseKey, fingerprint: 'laptop' })
    const dir = path.join(root, 'test/e2e/.tmp')
    mkdirSync(dir, { recursive: true })
    const out = path.join(dir, 'license.txt')
    const env = { ...process.env, KEYSTACK_URL: server.url, KEYSTACK_KEY_ID: client.keyId, KEYSTACK_SECRET: client.secret }
    const cli = (args: string[]) => run(process.execPath, [path.join(root, 'bin/keystack.mjs'), ...args], { cwd: root, env })
    const checkout = await cli(['checkout', licenseKey, '--fingerprint', 'laptop', '--out', out])
    expect(checkout.stdout).toContain('License file written to')
    const verified = await cli(['verify-file', out, '--public-key', publicKey, '--fingerprint', 'laptop'])
    expect(verified.stdout).toMatch(/^valid: VALID/)
    const other = await cli(['verify-file', out, '--public-key', publicKey, '--fingerprint', 'desktop']).catch((e: { code: number; stdout: string }) => e)
    expect(other).toMatchObject({ code: 1 })
    expect((other as { stdout: string }).stdout).toMatch(/^not valid: FINGERPRINT_MISMATCH/)

    // The file's own signature, by Node crypto: Ed25519 over the ASCII of the first part.
    const body = readFileSync(out, 'utf8').split('\n').filter((l) => l && !l.startsWith('-----')).join('')
    const [payloadPart, signaturePart] = body.split('.')
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' })
    expect(verify(null, Buffer.from(payloadPart), key, Buffer.from(signaturePart, 'base64url'))).toBe(true)
    const payload = JSON.parse(Buffer.from(payloadPart, 'base64url').toString())
    expect(payload).toMatchObject({ v: 1, license: { key: licenseKey }, machine: { fingerprint: 'laptop' } })
  })
})
