import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app'
import { D1Probe } from '../d1-probe'
import { api, newAccount, newKey, signedRequest, type Creds, type TestAccount } from '../helpers'

let acme: TestAccount
let client: Creds
let key: string
const probe = new D1Probe(env.DB)
const app = createApp()

async function probed(creds: Creds, method: string, path: string, body?: unknown) {
  const ctx = createExecutionContext()
  const res = await app.fetch(await signedRequest(creds, method, path, body), { ...env, DB: probe.binding }, ctx)
  await waitOnExecutionContext(ctx)
  return res
}

beforeAll(async () => {
  acme = await newAccount('Cost Co')
  client = await newKey(acme.admin, 'client')
  const res = await api(acme.admin, 'POST', '/v1/licenses', { max_machines: 5 })
  key = ((await res.json()) as { license: { key: string } }).license.key
  // Warm this isolate's key cache and last-used record for the client key.
  await probed(client, 'POST', '/v1/licenses/validate', { key })
})

describe('D1 cost of the hot path (a new query here must be a decision, not an accident)', () => {
  it('validate, with a warm key cache: one D1 query', async () => {
    probe.reset()
    const res = await probed(client, 'POST', '/v1/licenses/validate', { key, fingerprint: 'fp-1' })
    expect(res.status).toBe(200)
    expect(probe.roundTrips).toBe(1)
    expect(probe.roundTrips).toBeLessThanOrEqual(2) // the ceiling
  })

  it('activate: one D1 round trip (a batch of two statements)', async () => {
    probe.reset()
    const res = await probed(client, 'POST', '/v1/licenses/activate', { key, fingerprint: 'fp-cost' })
    expect(res.status).toBe(201)
    expect(probe.roundTrips).toBe(1)
    expect(probe.statements).toHaveLength(2)
  })

  it('a bad signature costs no D1 query once the key is cached', async () => {
    probe.reset()
    const res = await probed({ keyId: client.keyId, secret: 'kss_wrong' }, 'POST', '/v1/licenses/validate', { key })
    expect(res.status).toBe(401)
    expect(probe.roundTrips).toBe(0)
  })
})

describe('indexes: no request of the license API scans a table', () => {
  const requests: [string, () => Promise<Response>][] = [
    ['validate', () => probed(client, 'POST', '/v1/licenses/validate', { key, fingerprint: 'fp-1' })],
    ['activate', () => probed(client, 'POST', '/v1/licenses/activate', { key, fingerprint: 'fp-plan' })],
    ['heartbeat', () => probed(client, 'POST', '/v1/licenses/heartbeat', { key, fingerprint: 'fp-plan' })],
    ['deactivate', () => probed(client, 'POST', '/v1/licenses/deactivate', { key, fingerprint: 'fp-plan' })],
    ['list', () => probed(acme.admin, 'GET', '/v1/licenses?limit=5')],
    ['list by status', () => probed(acme.admin, 'GET', '/v1/licenses?limit=5&status=active')],
  ]
  it.each(requests)('%s', async (_name, send) => {
    probe.reset()
    expect((await send()).status).toBeLessThan(300)
    const plans = await probe.plans()
    expect(plans.length).toBeGreaterThan(0)
    for (const { sql, plan } of plans) {
      expect(plan, sql).not.toMatch(/SCAN (l|licenses|m|machines|c)\b/)
      expect(plan, sql).not.toMatch(/USE TEMP B-TREE/)
    }
  })
})
