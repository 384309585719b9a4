import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { api, errorCode, newAccount, newKey, type Creds, type TestAccount } from '../helpers'

interface Machine { id: string; license_id: string; fingerprint: string; name: string | null; platform: string | null; created_at: string; last_heartbeat_at: string | null }
interface License { id: string; key: string; status: string; machines_count: number; max_machines: number | null }
interface Verdict { valid: boolean; code: string; license: License | null; machine: Machine | null }

let acme: TestAccount
let client: Creds
beforeAll(async () => {
  acme = await newAccount('Machines Co')
  client = await newKey(acme.admin, 'client')
})

async function license(body: Record<string, unknown> = {}, admin = acme.admin): Promise<License> {
  const res = await api(admin, 'POST', '/v1/licenses', body)
  expect(res.status).toBe(201)
  return ((await res.json()) as { license: License }).license
}

async function validate(body: Record<string, unknown>, creds = client): Promise<Verdict> {
  const res = await api(creds, 'POST', '/v1/licenses/validate', body)
  expect(res.status).toBe(200)
  return (await res.json()) as Verdict
}

const activate = (body: Record<string, unknown>, creds = client) => api(creds, 'POST', '/v1/licenses/activate', body)
const machineCount = async (licenseId: string) =>
  (await env.DB.prepare('SELECT COUNT(*) AS n FROM machines WHERE license_id = ?').bind(licenseId).first<{ n: number }>())!.n

describe('POST /v1/licenses/validate: a code for every outcome', () => {
  it('VALID, with the license, and with the machine when a fingerprint is given', async () => {
    const lic = await license({ entitlements: ['pro', 'cloud'] })
    const plain = await validate({ key: lic.key })
    expect(plain).toMatchObject({ valid: true, code: 'VALID', license: { id: lic.id }, machine: null })
    expect((await activate({ key: lic.key, fingerprint: 'fp-valid' })).status).toBe(201)
    const withMachine = await validate({ key: lic.key.toLowerCase(), fingerprint: 'fp-valid', entitlements: ['pro'] })
    expect(withMachine).toMatchObject({ valid: true, code: 'VALID', machine: { fingerprint: 'fp-valid', license_id: lic.id } })
  })

  it('NOT_FOUND for an unknown key and for a key of another account, alike', async () => {
    const other = await newAccount('Validate Other Co')
    const theirs = await license({}, other.admin)
    const unknown = await validate({ key: 'NOPE-NOPE-NOPE' })
    const foreign = await validate({ key: theirs.key })
    expect(unknown).toEqual({ valid: false, code: 'NOT_FOUND', license: null, machine: null })
    expect(foreign).toEqual(unknown)
  })

  it('EXPIRED, SUSPENDED, REVOKED', async () => {
    const expired = await license({ expires_at: '2020-01-01T00:00:00Z' })
    expect(await validate({ key: expired.key })).toMatchObject({ valid: false, code: 'EXPIRED', license: { id: expired.id } })
    const suspended = await license()
    await api(acme.admin, 'POST', `/v1/licenses/${suspended.id}/suspend`)
    expect(await validate({ key: suspended.key })).toMatchObject({ valid: false, code: 'SUSPENDED' })
    const revoked = await license()
    await api(acme.admin, 'DELETE', `/v1/licenses/${revoked.id}`)
    expect(await validate({ key: revoked.key })).toMatchObject({ valid: false, code: 'REVOKED' })
  })

  it('FINGERPRINT_NOT_ACTIVATED and ENTITLEMENTS_MISSING', async () => {
    const lic = await license({ entitlements: ['pro'] })
    expect(await validate({ key: lic.key, fingerprint: 'never-activated' })).toMatchObject({ valid: false, code: 'FINGERPRINT_NOT_ACTIVATED', machine: null })
    expect(await validate({ key: lic.key, entitlements: ['pro', 'enterprise'] })).toMatchObject({ valid: false, code: 'ENTITLEMENTS_MISSING' })
  })

  it('picks the first of REVOKED, SUSPENDED, EXPIRED, FINGERPRINT_NOT_ACTIVATED, ENTITLEMENTS_MISSING', async () => {
    const lic = await license({ expires_at: '2020-01-01T00:00:00Z', entitlements: [] })
    const all = { key: lic.key, fingerprint: 'nope', entitlements: ['x'] }
    expect((await validate(all)).code).toBe('EXPIRED')
    await api(acme.admin, 'POST', `/v1/licenses/${lic.id}/suspend`)
    expect((await validate(all)).code).toBe('SUSPENDED')
    await api(acme.admin, 'DELETE', `/v1/licenses/${lic.id}`)
    expect((await validate(all)).code).toBe('REVOKED')
    const fresh = await license()
    expect((await validate({ key: fresh.key, fingerprint: 'nope', entitlements: ['x'] })).code).toBe('FINGERPRINT_NOT_ACTIVATED')
  })

  it('refuses a malformed body with 400, not a verdict', async () => {
    for (const body of [{}, { key: 'K', fingerprint: '' }, { key: 'K', extra: 1 }]) {
      const res = await api(client, 'POST', '/v1/licenses/validate', body)
      expect(res.status).toBe(400)
      expect(await errorCode(res)).toBe('api/validation-failed')
    }
  })
})

describe('POST /v1/licenses/activate', () => {
  it('activates, and re-activating the same fingerprint answers 200 with the same machine', async () => {
    const lic = await license({ max_machines: 1 })
    const first = await activate({ key: lic.key, fingerprint: 'laptop', name: 'Work laptop', platform: 'macOS' })
    expect(first.status).toBe(201)
    const created = (await first.json()) as { machine: Machine; license: License }
    expect(created.machine).toMatchObject({ fingerprint: 'laptop', name: 'Work laptop', platform: 'macOS', license_id: lic.id, last_heartbeat_at: null })
    expect(created.machine.id).toMatch(/^mch_[0-9A-Z]{26}$/)
    expect(created.license.machines_count).toBe(1)
    const again = await activate({ key: lic.key, fingerprint: 'laptop' })
    expect(again.status).toBe(200)
    expect(((await again.json()) as { machine: Machine }).machine).toEqual(created.machine)
    expect(await machineCount(lic.id)).toBe(1)
  })

  it('holds the machine limit when 20 distinct fingerprints race on a 3-machine license', async () => {
    const lic = await license({ max_machines: 3 })
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => activate({ key: lic.key, fingerprint: `racer-${i}` })))
    const statuses = results.map((r) => r.status)
    expect(statuses.filter((s) => s === 201)).toHaveLength(3)
    expect(statuses.filter((s) => s === 409)).toHaveLength(17)
    for (const r of results.filter((r) => r.status === 409)) expect(await errorCode(r)).toBe('machine/limit-reached')
    expect(await machineCount(lic.id)).toBe(3)
  })

  it('refuses with the contract codes, in its order, and changes nothing', async () => {
    const code = async (body: Record<string, unknown>) => {
      const res = await activate(body)
      return `${res.status} ${await errorCode(res)}`
    }
    expect(await code({ key: 'UNKNOWN-KEY', fingerprint: 'x' })).toBe('404 license/not-found')
    const expired = await license({ expires_at: '2020-01-01T00:00:00Z' })
    expect(await code({ key: expired.key, fingerprint: 'x' })).toBe('422 license/expired')
    await api(acme.admin, 'POST', `/v1/licenses/${expired.id}/suspend`)
    expect(await code({ key: expired.key, fingerprint: 'x' })).toBe('422 license/suspended')
    await api(acme.admin, 'DELETE', `/v1/licenses/${expired.id}`)
    expect(await code({ key: expired.key, fingerprint: 'x' })).toBe('422 license/revoked')
    expect(await machineCount(expired.id)).toBe(0)
    const full = await license({ max_machines: 1 })
    await activate({ key: full.key, fingerprint: 'one' })
    expect(await code({ key: full.key, fingerprint: 'two' })).toBe('409 machine/limit-reached')
  })

  it('keeps machines when the limit is lowered below them, and refuses new ones until under it', async () => {
    const lic = await license({ max_machines: 3 })
    for (const fp of ['a', 'b', 'c']) expect((await activate({ key: lic.key, fingerprint: fp })).status).toBe(201)
    await api(acme.admin, 'PATCH', `/v1/licenses/${lic.id}`, { max_machines: 1 })
    expect((await activate({ key: lic.key, fingerprint: 'a' })).status).toBe(200)
    expect((await activate({ key: lic.key, fingerprint: 'd' })).status).toBe(409)
    await api(client, 'POST', '/v1/licenses/deactivate', { key: lic.key, fingerprint: 'a' })
    await api(client, 'POST', '/v1/licenses/deactivate', { key: lic.key, fingerprint: 'b' })
    expect((await activate({ key: lic.key, fingerprint: 'd' })).status).toBe(409)
    await api(client, 'POST', '/v1/licenses/deactivate', { key: lic.key, fingerprint: 'c' })
    expect((await activate({ key: lic.key, fingerprint: 'd' })).status).toBe(201)
  })

  it("answers 404 license/not-found for another account's key", async () => {
    const other = await newAccount('Activate Other Co')
    const theirs = await license({}, other.admin)
    const res = await activate({ key: theirs.key, fingerprint: 'x' })
    expect(res.status).toBe(404)
    expect(await errorCode(res)).toBe('license/not-found')
    expect(await machineCount(theirs.id)).toBe(0)
  })
})

describe('heartbeat and deactivate', () => {
  it('records a heartbeat; deactivation frees the activation, also on a revoked license', async () => {
    const lic = await license({ max_machines: 1 })
    await activate({ key: lic.key, fingerprint: 'desk' })
    const beat = await api(client, 'POST', '/v1/licenses/heartbeat', { key: lic.key, fingerprint: 'desk' })
    expect(beat.status).toBe(200)
    expect(((await beat.json()) as { machine: Machine }).machine.last_heartbeat_at).toMatch(/^\d{4}-\d\d-\d\dT/)

    await api(acme.admin, 'DELETE', `/v1/licenses/${lic.id}`)
    const off = await api(client, 'POST', '/v1/licenses/deactivate', { key: lic.key, fingerprint: 'desk' })
    expect(off.status).toBe(200)
    expect(((await off.json()) as { machine: Machine }).machine.fingerprint).toBe('desk')
    expect(await machineCount(lic.id)).toBe(0)
  })

  it('answers machine/not-found for an unknown fingerprint and license/not-found for an unknown key', async () => {
    const lic = await license()
    for (const path of ['/v1/licenses/heartbeat', '/v1/licenses/deactivate']) {
      const noMachine = await api(client, 'POST', path, { key: lic.key, fingerprint: 'ghost' })
      expect(`${noMachine.status} ${await errorCode(noMachine)}`).toBe('404 machine/not-found')
      const noLicense = await api(client, 'POST', path, { key: 'UNKNOWN-KEY', fingerprint: 'ghost' })
      expect(`${noLicense.status} ${await errorCode(noLicense)}`).toBe('404 license/not-found')
    }
  })
})

describe('machines, as the admin sees them', () => {
  it('lists a license\'s machines and removes one by id; foreign ids are 404', async () => {
    const lic = await license()
    await activate({ key: lic.key, fingerprint: 'm1' })
    await activate({ key: lic.key, fingerprint: 'm2' })
    const list = await api(acme.admin, 'GET', `/v1/licenses/${lic.id}/machines`)
    const { data } = (await list.json()) as { data: Machine[] }
    expect(data.map((m) => m.fingerprint)).toEqual(['m1', 'm2'])

    const other = await newAccount('Machine Thief Co')
    const stolen = await api(other.admin, 'DELETE', `/v1/machines/${data[0].id}`)
    expect(`${stolen.status} ${await errorCode(stolen)}`).toBe('404 machine/not-found')
    const peek = await api(other.admin, 'GET', `/v1/licenses/${lic.id}/machines`)
    expect(`${peek.status} ${await errorCode(peek)}`).toBe('404 license/not-found')

    const removed = await api(acme.admin, 'DELETE', `/v1/machines/${data[0].id}`)
    expect(removed.status).toBe(200)
    expect(((await removed.json()) as { machine: Machine }).machine.id).toBe(data[0].id)
    expect(await machineCount(lic.id)).toBe(1)
    const again = await api(acme.admin, 'DELETE', `/v1/machines/${data[0].id}`)
    expect(again.status).toBe(404)
  })
})
