import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app'
import { openSecret } from '../../src/auth/secret-box'
import { verifyLicenseFile, verifyResponseSignature } from '../../src/client/index.ts'
import { api, errorCode, newAccount, newKey, OPERATOR, send, signedRequest, type Creds, type TestAccount } from '../helpers'

let acme: TestAccount
let client: Creds
let publicKey: string
let licenseKey: string

/** Sends and checks the answer's signature against the account's public key; returns the answer. */
async function signedAnswer(request: Request, key = publicKey) {
  const requestSignatureHex = request.headers.get('X-KeyStack-Signature')!.replace(/^v[12]=/, '').toLowerCase()
  const res = await send(request)
  const body = new Uint8Array(await res.arrayBuffer())
  const signature = res.headers.get('X-KeyStack-Response-Signature')
  const valid = signature !== null && (await verifyResponseSignature(key, { requestSignatureHex, status: res.status, body, signature }))
  return { res, body, signature, requestSignatureHex, valid }
}

beforeAll(async () => {
  acme = await newAccount('Signing Co')
  client = await newKey(acme.admin, 'client')
  const res = await api(acme.admin, 'GET', '/v1/account')
  publicKey = ((await res.json()) as { account: { public_key: string } }).account.public_key
  const lic = await api(acme.admin, 'POST', '/v1/licenses', { max_machines: 2, entitlements: ['pro'] })
  licenseKey = ((await lic.json()) as { license: { key: string } }).license.key
})

describe('the account key pair', () => {
  it('GET /v1/account gives the raw Ed25519 public key in base64url; D1 holds only a sealed private key', async () => {
    const res = await api(acme.admin, 'GET', '/v1/account')
    const { account } = (await res.json()) as { account: Record<string, string> }
    expect(Object.keys(account).sort()).toEqual(['created_at', 'id', 'name', 'public_key'])
    expect(account.public_key).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const row = await env.DB.prepare('SELECT signing_private_sealed FROM accounts WHERE id = ?').bind(acme.accountId).first<{ signing_private_sealed: string }>()
    expect(row!.signing_private_sealed).toMatch(/^v1\./)
    const pkcs8 = await openSecret(env.KEYSTACK_MASTER_KEY, `${acme.accountId}/ed25519`, row!.signing_private_sealed)
    expect(JSON.stringify(row)).not.toContain(pkcs8)
    await expect(openSecret(env.KEYSTACK_MASTER_KEY, `${acme.admin.keyId}/ed25519`, row!.signing_private_sealed)).rejects.toThrow()
    expect((await api(client, 'GET', '/v1/account')).status).toBe(403)
  })

  it('is made on first use for an account created before keys existed', async () => {
    const old = await newAccount('Old Co')
    await env.DB.prepare('UPDATE accounts SET signing_public_key = NULL, signing_private_sealed = NULL WHERE id = ?').bind(old.accountId).run()
    const oldClient = await newKey(old.admin, 'client') // a key not cached yet, so its lookup reads the NULLs
    const answer = await signedAnswer(await signedRequest(oldClient, 'POST', '/v1/licenses/validate', { key: 'X-1' }))
    expect(answer.res.status).toBe(200)
    const { account } = (await (await api(old.admin, 'GET', '/v1/account')).json()) as { account: { public_key: string } }
    expect(await verifyResponseSignature(account.public_key, { requestSignatureHex: answer.requestSignatureHex, status: 200, body: answer.body, signature: answer.signature! })).toBe(true)
  })
})

describe('signed answers', () => {
  it('signs a 200, a 4xx domain error and a 409 replay, each bound to its request', async () => {
    const ok = await signedAnswer(await signedRequest(client, 'POST', '/v1/licenses/validate', { key: licenseKey }))
    expect([ok.res.status, ok.valid]).toEqual([200, true])
    const notFound = await signedAnswer(await signedRequest(client, 'POST', '/v1/licenses/activate', { key: 'NO-SUCH-KEY', fingerprint: 'f' }))
    expect([notFound.res.status, notFound.valid]).toEqual([404, true])
    const req = await signedRequest(client, 'POST', '/v1/licenses/validate', { key: licenseKey })
    await send(req.clone())
    const replay = await signedAnswer(req)
    expect([replay.res.status, replay.valid]).toEqual([409, true])
  })

  it('fails verification with one byte changed, another status, or paired with another request', async () => {
    const a = await signedAnswer(await signedRequest(client, 'POST', '/v1/licenses/validate', { key: licenseKey }))
    const b = await signedAnswer(await signedRequest(client, 'POST', '/v1/licenses/validate', { key: licenseKey }))
    expect(a.valid && b.valid).toBe(true)
    const changed = new Uint8Array(a.body)
    changed[10] ^= 1
    const check = (over: Partial<{ requestSignatureHex: string; status: number; body: Uint8Array }>) =>
      verifyResponseSignature(publicKey, { requestSignatureHex: a.requestSignatureHex, status: 200, body: a.body, signature: a.signature!, ...over })
    expect(await check({})).toBe(true)
    expect(await check({ body: changed })).toBe(false)
    expect(await check({ status: 201 })).toBe(false)
    expect(await check({ requestSignatureHex: b.requestSignatureHex })).toBe(false)
    // Another account's key does not verify it either.
    const other = await newAccount('Other Signer Co')
    const otherKey = ((await (await api(other.admin, 'GET', '/v1/account')).json()) as { account: { public_key: string } }).account.public_key
    expect(await verifyResponseSignature(otherKey, { requestSignatureHex: a.requestSignatureHex, status: 200, body: a.body, signature: a.signature! })).toBe(false)
  })

  it('leaves unsigned: answers to the operator, and answers to requests whose signature did not verify', async () => {
    const operator = await send(await signedRequest(OPERATOR, 'POST', '/v1/accounts', { name: 'Unsigned Co' }))
    expect(operator.status).toBe(201)
    expect(operator.headers.get('X-KeyStack-Response-Signature')).toBeNull()
    const forged = await send(await signedRequest({ keyId: client.keyId, secret: 'kss_forged' }, 'POST', '/v1/licenses/validate', { key: licenseKey }))
    expect(forged.status).toBe(401)
    expect(forged.headers.get('X-KeyStack-Response-Signature')).toBeNull()
  })

  it('answers 503 api/signing-unavailable, unsigned, when it cannot sign, and changes nothing', async () => {
    const broken = await newAccount('Broken Key Co')
    await env.DB.prepare("UPDATE accounts SET signing_private_sealed = 'v1.AAAA.AAAA' WHERE id = ?").bind(broken.accountId).run()
    const ctx = createExecutionContext()
    const res = await createApp().fetch(await signedRequest(broken.admin, 'POST', '/v1/keys', { scope: 'client', label: 'never' }), env, ctx)
    await waitOnExecutionContext(ctx)
    expect(res.status).toBe(503)
    expect(await errorCode(res)).toBe('api/signing-unavailable')
    expect(res.headers.get('X-KeyStack-Response-Signature')).toBeNull()
    expect(res.headers.get('X-Request-Id')).toBeTruthy()
    const keys = await env.DB.prepare('SELECT COUNT(*) AS n FROM api_keys WHERE account_id = ?').bind(broken.accountId).first<{ n: number }>()
    expect(keys!.n).toBe(1)
  })
})

describe('POST /v1/licenses/checkout: offline license files', () => {
  it('gives a file that verifies offline, for this machine, until it expires', async () => {
    await api(client, 'POST', '/v1/licenses/activate', { key: licenseKey, fingerprint: 'laptop' })
    const res = await api(client, 'POST', '/v1/licenses/checkout', { key: licenseKey, fingerprint: 'laptop', ttl_seconds: 3600 })
    expect(res.status).toBe(200)
    const { file, expires_at } = (await res.json()) as { file: string; expires_at: string }
    expect(file).toMatch(/^-----BEGIN KEYSTACK LICENSE FILE-----\n([A-Za-z0-9_.-]{1,64}\n)+-----END KEYSTACK LICENSE FILE-----\n$/)
    const now = Date.now()
    expect(Date.parse(expires_at) - now).toBeGreaterThan(3500_000)
    expect(Date.parse(expires_at) - now).toBeLessThanOrEqual(3600_000)

    const ok = await verifyLicenseFile(file, publicKey, { fingerprint: 'laptop' })
    expect(ok).toMatchObject({ valid: true, code: 'VALID', payload: { v: 1, account_id: acme.accountId, license: { key: licenseKey }, machine: { fingerprint: 'laptop' } } })
    expect((await verifyLicenseFile(file, publicKey)).code).toBe('VALID')
    expect((await verifyLicenseFile(file, publicKey, { fingerprint: 'desktop' })).code).toBe('FINGERPRINT_MISMATCH')
    expect((await verifyLicenseFile(file, publicKey, { now: Date.parse(expires_at) })).code).toBe('FILE_EXPIRED')
    // A reader removes all whitespace: rewrapping does not matter.
    expect((await verifyLicenseFile(file.replace(/\n(?!-)/g, '\r\n  '), publicKey)).code).toBe('VALID')
  })

  it('fails when a byte of the payload changes, and for garbage', async () => {
    const { file } = (await (await api(client, 'POST', '/v1/licenses/checkout', { key: licenseKey })).json()) as { file: string }
    const lines = file.split('\n')
    const c = lines[1][5]
    lines[1] = lines[1].slice(0, 5) + (c === 'A' ? 'B' : 'A') + lines[1].slice(6)
    expect((await verifyLicenseFile(lines.join('\n'), publicKey)).code).toBe('SIGNATURE_INVALID')
    expect((await verifyLicenseFile('hello', publicKey)).code).toBe('MALFORMED')
    // No machine in the file: a verifier given a fingerprint rejects it.
    expect((await verifyLicenseFile(file, publicKey, { fingerprint: 'laptop' })).code).toBe('FINGERPRINT_MISMATCH')
  })

  it("ends no later than the license's own expiry, and says LICENSE_EXPIRED after it", async () => {
    const expiresAt = new Date(Date.now() + 2 * 3600_000).toISOString()
    const lic = await api(acme.admin, 'POST', '/v1/licenses', { expires_at: expiresAt })
    const { key } = ((await lic.json()) as { license: { key: string } }).license
    const { file, expires_at } = (await (await api(client, 'POST', '/v1/licenses/checkout', { key })).json()) as { file: string; expires_at: string }
    expect(expires_at).toBe(expiresAt)
    expect((await verifyLicenseFile(file, publicKey, { now: Date.parse(expiresAt) + 1 })).code).toBe('LICENSE_EXPIRED')
  })

  it('refuses as activate does, then an unknown fingerprint with machine/not-found', async () => {
    const code = async (body: Record<string, unknown>) => {
      const res = await api(client, 'POST', '/v1/licenses/checkout', body)
      return `${res.status} ${await errorCode(res)}`
    }
    expect(await code({ key: 'NO-SUCH-KEY' })).toBe('404 license/not-found')
    const lic = await api(acme.admin, 'POST', '/v1/licenses', { expires_at: '2020-01-01T00:00:00Z' })
    const { id, key } = ((await lic.json()) as { license: { id: string; key: string } }).license
    expect(await code({ key })).toBe('422 license/expired')
    await api(acme.admin, 'POST', `/v1/licenses/${id}/suspend`)
    expect(await code({ key })).toBe('422 license/suspended')
    await api(acme.admin, 'DELETE', `/v1/licenses/${id}`)
    expect(await code({ key })).toBe('422 license/revoked')
    expect(await code({ key: licenseKey, fingerprint: 'never-activated' })).toBe('404 machine/not-found')
    expect(await code({ key: licenseKey, ttl_seconds: 60 })).toBe('400 api/validation-failed')
  })
})
