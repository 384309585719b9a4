import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { LICENSE_KEY_ALPHABET, LICENSE_KEY_BITS, generateLicenseKey } from '../../src/licenses/license-key'
import { api, errorCode, newAccount, newKey, send, type Creds, type TestAccount } from '../helpers'

interface License {
  id: string; key: string; name: string | null; status: string; expires_at: string | null; max_machines: number | null
  machines_count: number; entitlements: string[]; metadata: Record<string, unknown>; created_at: string; updated_at: string
}

let acme: TestAccount
let client: Creds
beforeAll(async () => {
  acme = await newAccount('License Co')
  client = await newKey(acme.admin, 'client')
})

async function create(admin: Creds, body: Record<string, unknown> = {}): Promise<License> {
  const res = await api(admin, 'POST', '/v1/licenses', body)
  expect(res.status, await res.clone().text()).toBe(201)
  return ((await res.json()) as { license: License }).license
}

const licenseCount = async () => (await env.DB.prepare('SELECT COUNT(*) AS n FROM licenses').first<{ n: number }>())!.n

describe('license keys', () => {
  it('are generated with at least 120 bits, in groups, without look-alike characters', () => {
    expect(LICENSE_KEY_BITS).toBeGreaterThanOrEqual(120)
    expect(LICENSE_KEY_ALPHABET).toHaveLength(32)
    expect(LICENSE_KEY_ALPHABET).not.toMatch(/[01IO]/)
    const keys = new Set(Array.from({ length: 2000 }, generateLicenseKey))
    expect(keys.size).toBe(2000)
    for (const key of keys) {
      expect(key).toMatch(/^[A-HJ-NP-Z2-9]{5}(-[A-HJ-NP-Z2-9]{5}){4}$/)
      expect(key.length).toBeGreaterThanOrEqual(20)
      expect(key.length).toBeLessThanOrEqual(64)
    }
    // Every symbol of the alphabet shows up: the generator uses all of it.
    expect(new Set([...keys].join('').replaceAll('-', ''))).toHaveLength(32)
  })
})

describe('POST /v1/licenses', () => {
  it('creates a license with defaults and a generated key', async () => {
    const license = await create(acme.admin)
    expect(license).toMatchObject({ name: null, status: 'active', expires_at: null, max_machines: null, machines_count: 0, entitlements: [], metadata: {} })
    expect(license.id).toMatch(/^lic_[0-9A-Z]{26}$/)
    expect(Object.keys(license).sort()).toEqual(
      ['created_at', 'entitlements', 'expires_at', 'id', 'key', 'machines_count', 'max_machines', 'metadata', 'name', 'status', 'updated_at'],
    )
  })

  it('imports a vendor key, in the past too, and refuses the same key in another case with 409', async () => {
    const license = await create(acme.admin, {
      key: 'Legacy-Key-0001', name: 'Old customer', expires_at: '2020-01-01T00:00:00Z', max_machines: 2,
      entitlements: ['pro', 'pro', 'export:pdf'], metadata: { order: 'A-1', seats: 2 },
    })
    expect(license).toMatchObject({ key: 'Legacy-Key-0001', expires_at: '2020-01-01T00:00:00.000Z', max_machines: 2, entitlements: ['pro', 'export:pdf'], metadata: { order: 'A-1', seats: 2 } })
    const before = await licenseCount()
    const res = await api(acme.admin, 'POST', '/v1/licenses', { key: 'LEGACY-KEY-0001' })
    expect(res.status).toBe(409)
    expect(await errorCode(res)).toBe('license/key-taken')
    expect(await licenseCount()).toBe(before)
  })

  it('lets another account use the same key (keys are unique per account only)', async () => {
    const other = await newAccount('Same Key Co')
    await create(other.admin, { key: 'Legacy-Key-0001' })
  })

  it.each([
    ['a typo (max_machine)', { max_machine: 3 }, ''],
    ['max_machines 0', { max_machines: 0 }, 'max_machines'],
    ['max_machines 1.5', { max_machines: 1.5 }, 'max_machines'],
    ['expires_at "tomorrow"', { expires_at: 'tomorrow' }, 'expires_at'],
    ['an entitlement with a space', { entitlements: ['has space'] }, 'entitlements.0'],
    ['metadata that is an array', { metadata: [] }, 'metadata'],
    ['metadata over 4 KiB', { metadata: { blob: 'x'.repeat(4100) } }, 'metadata'],
    ['a 2-character key', { key: 'ab' }, 'key'],
    ['a key with a space', { key: 'with space' }, 'key'],
  ])('refuses %s with api/validation-failed and creates nothing', async (_label, body, path) => {
    const before = await licenseCount()
    const res = await api(acme.admin, 'POST', '/v1/licenses', body)
    expect(res.status).toBe(400)
    const { error } = (await res.json()) as { error: { code: string; details: { path: string }[] } }
    expect(error.code).toBe('api/validation-failed')
    expect(error.details.map((d) => d.path)).toContain(path)
    expect(await licenseCount()).toBe(before)
  })

  it('accepts metadata of exactly the 4 KiB limit', async () => {
    const filler = 'x'.repeat(4096 - JSON.stringify({ blob: '' }).length)
    await create(acme.admin, { metadata: { blob: filler } })
  })
})

describe('GET, PATCH, suspend, reinstate, revoke', () => {
  it('gets a license by id; an unknown or foreign id is 404 license/not-found', async () => {
    const license = await create(acme.admin, { name: 'Get me' })
    const res = await api(acme.admin, 'GET', `/v1/licenses/${license.id}`)
    expect(res.status).toBe(200)
    expect(((await res.json()) as { license: License }).license).toEqual(license)

    const other = await newAccount('Foreign License Co')
    for (const [creds, id] of [[other.admin, license.id], [acme.admin, 'lic_01JH8Z6A7Q3VJ1T7E6X0R2M4NB']] as const) {
      const miss = await api(creds, 'GET', `/v1/licenses/${id}`)
      expect(miss.status).toBe(404)
      expect(await errorCode(miss)).toBe('license/not-found')
    }
  })

  it('patches name, expiry, machine limit, entitlements and metadata', async () => {
    const license = await create(acme.admin, { name: 'Before', max_machines: 1 })
    const res = await api(acme.admin, 'PATCH', `/v1/licenses/${license.id}`, {
      name: 'After', expires_at: '2030-06-01T12:00:00+02:00', max_machines: null, entitlements: ['beta'], metadata: { plan: 'team' },
    })
    expect(res.status).toBe(200)
    const patched = ((await res.json()) as { license: License }).license
    expect(patched).toMatchObject({ name: 'After', expires_at: '2030-06-01T10:00:00.000Z', max_machines: null, entitlements: ['beta'], metadata: { plan: 'team' }, key: license.key })
    // Fields not sent stay as they were.
    const again = ((await (await api(acme.admin, 'PATCH', `/v1/licenses/${license.id}`, { name: null })).json()) as { license: License }).license
    expect(again).toMatchObject({ name: null, entitlements: ['beta'], metadata: { plan: 'team' } })
  })

  it('suspends and reinstates (each twice is harmless); revoke is final: 422 license/revoked afterwards', async () => {
    const { id } = await create(acme.admin)
    const status = async (method: string, path: string, body?: unknown) => {
      const res = await api(acme.admin, method, path, body)
      return res.status === 200 ? ((await res.json()) as { license: License }).license.status : `${res.status} ${await errorCode(res)}`
    }
    expect(await status('POST', `/v1/licenses/${id}/suspend`)).toBe('suspended')
    expect(await status('POST', `/v1/licenses/${id}/suspend`)).toBe('suspended')
    expect(await status('POST', `/v1/licenses/${id}/reinstate`)).toBe('active')
    expect(await status('POST', `/v1/licenses/${id}/reinstate`)).toBe('active')
    expect(await status('DELETE', `/v1/licenses/${id}`)).toBe('revoked')
    expect(await status('DELETE', `/v1/licenses/${id}`)).toBe('revoked')
    expect(await status('POST', `/v1/licenses/${id}/suspend`)).toBe('422 license/revoked')
    expect(await status('POST', `/v1/licenses/${id}/reinstate`)).toBe('422 license/revoked')
    expect(await status('PATCH', `/v1/licenses/${id}`, { name: 'x' })).toBe('422 license/revoked')
    for (const path of [`/v1/licenses/lic_01JH8Z6A7Q3VJ1T7E6X0R2M4NB/suspend`, `/v1/licenses/lic_01JH8Z6A7Q3VJ1T7E6X0R2M4NB/reinstate`]) {
      expect(await status('POST', path)).toBe('404 license/not-found')
    }
    expect(await status('DELETE', `/v1/licenses/lic_01JH8Z6A7Q3VJ1T7E6X0R2M4NB`)).toBe('404 license/not-found')
    expect(await status('PATCH', `/v1/licenses/lic_01JH8Z6A7Q3VJ1T7E6X0R2M4NB`, { name: 'x' })).toBe('404 license/not-found')
  })
})

describe('GET /v1/licenses: keyset pagination', () => {
  it('pages through 45 licenses 20 at a time: none lost, none twice, newest first', async () => {
    const shop = await newAccount('Pagination Co')
    const created: string[] = []
    for (let i = 0; i < 45; i++) created.push((await create(shop.admin, { name: `#${i}` })).id)
    // Suspend a few, to filter on them.
    for (const id of created.slice(0, 5)) await api(shop.admin, 'POST', `/v1/licenses/${id}/suspend`)

    const seen: string[] = []
    const pageSizes: number[] = []
    let cursor: string | null = null
    do {
      const res = await api(shop.admin, 'GET', `/v1/licenses?limit=20${cursor ? `&cursor=${cursor}` : ''}`)
      expect(res.status).toBe(200)
      const page = (await res.json()) as { data: License[]; next_cursor: string | null }
      pageSizes.push(page.data.length)
      seen.push(...page.data.map((l) => l.id))
      cursor = page.next_cursor
    } while (cursor)
    expect(pageSizes).toEqual([20, 20, 5])
    expect(seen).toEqual([...created].reverse())

    const suspended = (await (await api(shop.admin, 'GET', '/v1/licenses?status=suspended&limit=3')).json()) as { data: License[]; next_cursor: string }
    expect(suspended.data.map((l) => l.status)).toEqual(['suspended', 'suspended', 'suspended'])
    const rest = (await (await api(shop.admin, 'GET', `/v1/licenses?status=suspended&limit=3&cursor=${suspended.next_cursor}`)).json()) as { data: License[]; next_cursor: string | null }
    expect(rest.data).toHaveLength(2)
    expect(rest.next_cursor).toBeNull()

    const first = (await (await api(shop.admin, 'GET', '/v1/licenses')).json()) as { data: License[] }
    expect(first.data).toHaveLength(20) // the default limit
  })

  it.each(['limit=0', 'limit=101', 'limit=abc', 'cursor=not-a-cursor', 'cursor=bGljX2V2aWw', 'status=expired'])(
    'refuses ?%s with 400 api/validation-failed',
    async (query) => {
      const res = await api(acme.admin, 'GET', `/v1/licenses?${query}`)
      expect(res.status).toBe(400)
      expect(await errorCode(res)).toBe('api/validation-failed')
    },
  )

  it("never shows another account's licenses", async () => {
    const empty = await newAccount('Empty Co')
    const page = (await (await api(empty.admin, 'GET', '/v1/licenses')).json()) as { data: License[]; next_cursor: null }
    expect(page).toEqual({ data: [], next_cursor: null })
  })
})

describe('scopes', () => {
  it('a client key gets 403 api/forbidden on every admin endpoint (from the route table)', async () => {
    const spec = (await (await send(new Request('http://keystack.test/openapi.json'))).json()) as {
      paths: Record<string, Record<string, { security: Record<string, string[]>[] }>>
    }
    let checked = 0
    for (const [path, ops] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const scopes = op.security?.[0]?.KeyStackSignature ?? []
        if (!path.startsWith('/v1/') || scopes.includes('client')) continue
        const concrete = path.replace('{id}', 'lic_01JH8Z6A7Q3VJ1T7E6X0R2M4NB')
        const res = await api(client, method.toUpperCase(), concrete, method === 'get' || method === 'delete' ? undefined : {})
        expect(`${method} ${path}: ${res.status} ${await errorCode(res)}`).toBe(`${method} ${path}: 403 api/forbidden`)
        checked++
      }
    }
    expect(checked).toBeGreaterThanOrEqual(12)
  })
})
