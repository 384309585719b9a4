import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app'
import { ShardedReplayStore, type ReplayStore } from '../../src/replay/client'
import type { ShardLayout } from '../../src/replay/layout'
import { api, errorCode, newAccount, send, signedRequest, type TestAccount } from '../helpers'

let acme: TestAccount
beforeAll(async () => {
  acme = await newAccount('Replay Co')
})

async function viaApp(replayStore: (env: Env) => ReplayStore, request: Request) {
  const ctx = createExecutionContext()
  const res = await createApp({ replayStore }).fetch(request, env, ctx)
  await waitOnExecutionContext(ctx)
  return res
}

const layoutStore = (layout: ShardLayout, previousLayout: ShardLayout | null = null) => (e: Env) =>
  new ShardedReplayStore(e.REPLAY_SHARD, { layout, previousLayout, timeoutMs: 2000 })

describe('replay refusal through the Worker', () => {
  it('accepts exactly one of 40 identical requests sent at the same instant', async () => {
    const req = await signedRequest(acme.admin, 'POST', '/v1/keys', { scope: 'client', label: 'race' })
    const responses = await Promise.all(Array.from({ length: 40 }, () => send(req.clone())))
    const statuses = responses.map((r) => r.status)
    expect(statuses.filter((s) => s === 201)).toHaveLength(1)
    expect(statuses.filter((s) => s === 409)).toHaveLength(39)
    // And only one key was created.
    const list = (await (await api(acme.admin, 'GET', '/v1/keys')).json()) as { data: { label: string }[] }
    expect(list.data.filter((k) => k.label === 'race')).toHaveLength(1)
  })

  it('treats two calls with different nonces in the same second as two requests', async () => {
    const a = await api(acme.admin, 'GET', '/v1/keys', undefined, { nonce: 'first' })
    const b = await api(acme.admin, 'GET', '/v1/keys', undefined, { nonce: 'second' })
    expect([a.status, b.status]).toEqual([200, 200])
  })
})

describe('shard layout change', () => {
  it('still refuses a replay of a signature accepted under the previous layout', async () => {
    const req = await signedRequest(acme.admin, 'GET', '/v1/keys')
    expect((await viaApp(layoutStore('hex1'), req.clone())).status).toBe(200)
    const res = await viaApp(layoutStore('hex3', 'hex1'), req.clone())
    expect(res.status).toBe(409)
    expect(await errorCode(res)).toBe('api/timestamp-replay')
  })

  it('refuses, during the change, a request accepted by an isolate that already runs the new layout', async () => {
    const req = await signedRequest(acme.admin, 'GET', '/v1/keys')
    expect((await viaApp(layoutStore('hex3', 'hex1'), req.clone())).status).toBe(200)
    expect((await viaApp(layoutStore('hex1'), req.clone())).status).toBe(409)
  })

  it('would open a replay window without the previous layout (why the setting exists)', async () => {
    const req = await signedRequest(acme.admin, 'GET', '/v1/keys')
    expect((await viaApp(layoutStore('hex1'), req.clone())).status).toBe(200)
    expect((await viaApp(layoutStore('hex4'), req.clone())).status).toBe(200)
  })
})

describe('fail closed', () => {
  const failing: ReplayStore = { claim: () => Promise.reject(new Error('storage exploded')) }

  it('answers 503 api/replay-store-unavailable when the store throws, and does nothing', async () => {
    const res = await viaApp(() => failing, await signedRequest(acme.admin, 'POST', '/v1/keys', { scope: 'client', label: 'never' }))
    expect(res.status).toBe(503)
    const body = (await res.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe('api/replay-store-unavailable')
    expect(body.error.message).not.toMatch(/exploded/)
    const list = (await (await api(acme.admin, 'GET', '/v1/keys')).json()) as { data: { label: string }[] }
    expect(list.data.some((k) => k.label === 'never')).toBe(false)
  })

  it('answers 503 when a shard does not answer within the timeout', async () => {
    // Shards that never answer: the real client's timeout must give up on them.
    const silentShards = { getByName: () => ({ claim: () => new Promise<boolean>(() => {}) }) }
    const hanging = () => new ShardedReplayStore(silentShards, { layout: 'hex2', previousLayout: null, timeoutMs: 50 })
    const res = await viaApp(hanging, await signedRequest(acme.admin, 'GET', '/v1/keys'))
    expect(res.status).toBe(503)
    expect(await errorCode(res)).toBe('api/replay-store-unavailable')
  })

  it('costs no replay-store call for a badly signed request', async () => {
    let calls = 0
    const counting: ReplayStore = { claim: async () => (calls++, true) }
    const res = await viaApp(() => counting, await signedRequest({ keyId: acme.admin.keyId, secret: 'kss_bad' }, 'GET', '/v1/keys'))
    expect(res.status).toBe(401)
    expect(calls).toBe(0)
    expect((await viaApp(() => counting, await signedRequest(acme.admin, 'GET', '/v1/keys'))).status).toBe(200)
    expect(calls).toBe(1)
  })
})

describe('validate overlaps the replay check with the license read', () => {
  it('starts the D1 read before the replay store has answered, and still refuses a replay', async () => {
    const { D1Probe } = await import('../d1-probe')
    const probe = new D1Probe(env.DB)
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    let queriesWhenClaimed = -1
    const slowStore: ReplayStore = {
      claim: async () => {
        await gate
        // Only the license read counts: a cold key lookup would be a D1 query too, overlap or not.
        queriesWhenClaimed = probe.statements.filter((st) => st.sql.includes('FROM licenses l')).length
        return false // a replay
      },
    }
    const req = await signedRequest(acme.admin, 'POST', '/v1/licenses/validate', { key: 'ANY-KEY' })
    const ctx = createExecutionContext()
    const pending = createApp({ replayStore: () => slowStore }).fetch(req, { ...env, DB: probe.binding }, ctx)
    // Let the route run while the store is still silent.
    for (let i = 0; i < 50 && !probe.statements.some((st) => st.sql.includes('FROM licenses l')); i++) await new Promise((r) => setTimeout(r, 5))
    release()
    const res = await pending
    await waitOnExecutionContext(ctx)
    expect(queriesWhenClaimed).toBe(1)
    expect(res.status).toBe(409)
    expect(await errorCode(res)).toBe('api/timestamp-replay')
  })

  it('answers 409 rather than 400 for a replayed request with a bad body', async () => {
    const req = await signedRequest(acme.admin, 'POST', '/v1/licenses/validate', { nope: true })
    expect((await send(req.clone())).status).toBe(400)
    const again = await send(req)
    expect(again.status).toBe(409)
    expect(await errorCode(again)).toBe('api/timestamp-replay')
  })

  it('answers 503 when the store fails during the read, never the verdict', async () => {
    const failing: ReplayStore = { claim: () => Promise.reject(new Error('down')) }
    const res = await viaApp(() => failing, await signedRequest(acme.admin, 'POST', '/v1/licenses/validate', { key: 'ANY-KEY' }))
    expect(res.status).toBe(503)
    expect(await errorCode(res)).toBe('api/replay-store-unavailable')
  })
})
