import { env } from 'cloudflare:workers'
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app'
import { api, errorCode, newAccount, newKey, OPERATOR, send, signedRequest, type Creds, type TestAccount } from '../helpers'

let acme: TestAccount
let client: Creds

beforeAll(async () => {
  acme = await newAccount('Auth Co')
  client = await newKey(acme.admin, 'client')
})

/** Sends `request` to an app whose clock reads `nowSeconds`. */
async function atTime(nowSeconds: number, request: Request) {
  const ctx = createExecutionContext()
  const res = await createApp({ clock: () => nowSeconds * 1000 }).fetch(request, env, ctx)
  await waitOnExecutionContext(ctx)
  return res
}

async function expectError(res: Response, status: number, code: string) {
  expect({ status: res.status, code: await errorCode(res) }).toEqual({ status, code })
  expect(res.headers.get('X-Request-Id')).toBeTruthy()
  expect(res.headers.get('X-KeyStack-Server-Time')).toMatch(/^\d+$/)
}

async function withHeaders(change: (h: Headers) => void, base?: Request) {
  const req = base ?? (await signedRequest(acme.admin, 'GET', '/v1/keys'))
  const headers = new Headers(req.headers)
  change(headers)
  return new Request(req, { headers })
}

describe('auth error codes', () => {
  it('api/key-missing', async () => {
    await expectError(await send(await withHeaders((h) => h.delete('X-KeyStack-Key'))), 401, 'api/key-missing')
  })
  it('api/key-unknown, for a well-formed and for a strange key id', async () => {
    for (const keyId of ['key_01JH8Z5Q1V0M6T4W9R3C2N7B5X', 'nope']) {
      await expectError(await api({ keyId, secret: 'kss_x' }, 'GET', '/v1/keys'), 401, 'api/key-unknown')
    }
  })
  it('api/timestamp-missing', async () => {
    await expectError(await send(await withHeaders((h) => h.delete('X-KeyStack-Timestamp'))), 401, 'api/timestamp-missing')
  })
  it.each(['', '-1', '1.0', '1e9', '1 7', '0x1F', '12345678901'])('api/timestamp-invalid for %j', async (ts) => {
    await expectError(await api(acme.admin, 'GET', '/v1/keys', undefined, { ts }), 401, 'api/timestamp-invalid')
  })
  it('api/timestamp-invalid says so when the timestamp looks like milliseconds', async () => {
    const res = await api(acme.admin, 'GET', '/v1/keys', undefined, { ts: Date.now() })
    expect(res.status).toBe(401)
    const body = (await res.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('api/timestamp-invalid')
    expect(body.error.message).toMatch(/milliseconds/)
  })
  it('api/signature-missing', async () => {
    await expectError(await send(await withHeaders((h) => h.delete('X-KeyStack-Signature'))), 401, 'api/signature-missing')
  })
  it.each(['abc', 'v3=' + 'a'.repeat(64), 'v2=' + 'g'.repeat(64)])('api/signature-malformed for %j', async (sig) => {
    await expectError(await send(await withHeaders((h) => h.set('X-KeyStack-Signature', sig))), 401, 'api/signature-malformed')
  })
  it('api/signature-malformed for a bad v2 nonce', async () => {
    await expectError(await api(acme.admin, 'GET', '/v1/keys', undefined, { nonce: 'has space' }), 401, 'api/signature-malformed')
  })
  it('api/signature-mismatch: wrong secret, changed body, changed path, other key id', async () => {
    await expectError(await api({ keyId: acme.admin.keyId, secret: 'kss_wrong' }, 'GET', '/v1/keys'), 401, 'api/signature-mismatch')
    await expectError(
      await api(acme.admin, 'POST', '/v1/keys', { scope: 'admin' }, { signedBody: JSON.stringify({ scope: 'client' }) }),
      401,
      'api/signature-mismatch',
    )
    const req = await signedRequest(acme.admin, 'GET', '/v1/keys?x=1')
    await expectError(await send(new Request(req.url.replace('x=1', 'x=2'), req)), 401, 'api/signature-mismatch')
    await expectError(await send(await withHeaders((h) => h.set('X-KeyStack-Key', client.keyId))), 401, 'api/signature-mismatch')
  })
  it('api/timestamp-replay, also for the same digest sent in another form', async () => {
    const req = await signedRequest(acme.admin, 'GET', '/v1/keys', undefined, { scheme: 'v1' })
    const again = req.clone()
    const upper = await withHeaders((h) => h.set('X-KeyStack-Signature', h.get('X-KeyStack-Signature')!.slice(3).toUpperCase()), req.clone())
    expect((await send(req)).status).toBe(200)
    await expectError(await send(again), 409, 'api/timestamp-replay')
    await expectError(await send(upper), 409, 'api/timestamp-replay')
  })
  it('api/forbidden: a client key on an admin route, an admin key on the operator route', async () => {
    await expectError(await api(client, 'GET', '/v1/keys'), 403, 'api/forbidden')
    await expectError(await api(acme.admin, 'POST', '/v1/accounts', { name: 'x' }), 403, 'api/forbidden')
    await expectError(await api(OPERATOR, 'GET', '/v1/keys'), 403, 'api/forbidden')
  })
  it('api/not-found for a signed request to an unknown route, 401 for an unsigned one', async () => {
    await expectError(await api(acme.admin, 'GET', '/v1/nothing-here'), 404, 'api/not-found')
    await expectError(await send(new Request('http://keystack.test/v1/nothing-here')), 401, 'api/key-missing')
    await expectError(await send(new Request('http://keystack.test/nothing-here')), 404, 'api/not-found')
  })
})

describe('clock skew', () => {
  const now = 1_800_000_000
  it.each([-299, 299, -300, 300])('accepts a timestamp %i s away', async (offset) => {
    const res = await atTime(now, await signedRequest(acme.admin, 'GET', '/v1/keys', undefined, { ts: now + offset }))
    expect(res.status).toBe(200)
    expect(res.headers.get('X-KeyStack-Server-Time')).toBe(String(now))
  })
  it.each([-301, 301, -86400])('refuses a timestamp %i s away', async (offset) => {
    await expectError(await atTime(now, await signedRequest(acme.admin, 'GET', '/v1/keys', undefined, { ts: now + offset })), 401, 'api/timestamp-skew')
  })
})

describe('the seed snippet and v1', () => {
  it('accepts a bare-hex v1 signature over `${ts}.${body}` (and the v1= form)', async () => {
    const signed = await signedRequest(acme.admin, 'POST', '/v1/keys', { scope: 'client', label: 'v1 bare' }, { scheme: 'v1' })
    const bare = signed.headers.get('X-KeyStack-Signature')!.replace(/^v1=/, '')
    expect(bare).toMatch(/^[0-9a-f]{64}$/)
    const res = await send(await withHeaders((h) => h.set('X-KeyStack-Signature', bare), signed))
    expect(res.status).toBe(201)
    expect((await api(acme.admin, 'POST', '/v1/keys', { scope: 'client', label: 'v1 prefixed' }, { scheme: 'v1' })).status).toBe(201)
  })
})

describe('order of checks', () => {
  it('refuses a bad signature before the scope (no scope hint to a forger)', async () => {
    await expectError(await api({ keyId: client.keyId, secret: 'kss_wrong' }, 'GET', '/v1/keys'), 401, 'api/signature-mismatch')
  })
  it('checks skew before looking up the key', async () => {
    await expectError(await api({ keyId: 'key_unknown', secret: 'x' }, 'GET', '/v1/keys', undefined, { ts: 1000 }), 401, 'api/timestamp-skew')
  })
  it('checks the scope before the replay store: a refused call does not burn its signature', async () => {
    const req = await signedRequest(client, 'GET', '/v1/keys')
    await expectError(await send(req.clone()), 403, 'api/forbidden')
    await expectError(await send(req), 403, 'api/forbidden')
  })
  it('checks replay before the body', async () => {
    const req = await signedRequest(acme.admin, 'POST', '/v1/keys', '{not json')
    await expectError(await send(req.clone()), 400, 'api/invalid-json')
    await expectError(await send(req), 409, 'api/timestamp-replay')
  })
})
