import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { api, errorCode, OPERATOR } from '../helpers'

const accountCount = async () => (await env.DB.prepare('SELECT COUNT(*) AS n FROM accounts').first<{ n: number }>())!.n

describe('POST /v1/accounts (operator)', () => {
  it('creates an account with its first admin key, which works at once', async () => {
    const res = await api(OPERATOR, 'POST', '/v1/accounts', { name: 'Acme Games' })
    expect(res.status).toBe(201)
    const body = (await res.json()) as { account: Record<string, string>; key: Record<string, string | null> }
    expect(Object.keys(body.account).sort()).toEqual(['created_at', 'id', 'name'])
    expect(body.account).toMatchObject({ name: 'Acme Games' })
    expect(body.account.id).toMatch(/^acc_[0-9A-Z]{26}$/)
    expect(Object.keys(body.key).sort()).toEqual(['created_at', 'id', 'label', 'scope', 'secret'])
    expect(body.key.scope).toBe('admin')
    const admin = { keyId: body.key.id!, secret: body.key.secret! }
    expect((await api(admin, 'GET', '/v1/keys')).status).toBe(200)
  })

  it.each([
    ['{}', 'api/validation-failed'],
    ['{"name":""}', 'api/validation-failed'],
    ['{"name":"x","plan":"pro"}', 'api/validation-failed'],
    ['[]', 'api/validation-failed'],
    ['{"name":', 'api/invalid-json'],
    ['', 'api/invalid-json'],
  ])('refuses %j with %s and creates nothing', async (body, code) => {
    const before = await accountCount()
    const res = await api(OPERATOR, 'POST', '/v1/accounts', body)
    expect(res.status).toBe(400)
    expect(await errorCode(res)).toBe(code)
    expect(await accountCount()).toBe(before)
  })

  it('parses JSON even without a JSON Content-Type (curl -d sends a form type)', async () => {
    const res = await api(OPERATOR, 'POST', '/v1/accounts', '{"name":"Curl Co"}', { headers: { 'Content-Type': 'application/x-www-form-urlencoded' } })
    expect(res.status).toBe(201)
  })
})
