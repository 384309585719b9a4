import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env, exports } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import vectors from '../../../shared/signing-vectors.json'
import { createApp } from '../../src/app'
import { KeyStack, KeyStackError, signRequest } from '../../src/client/index.ts'
import { OPERATOR } from '../helpers'

const BASE = 'http://keystack.test'

/** fetch through the real Worker (this runtime's entry point), optionally with a server clock of its own. */
function workerFetch(serverClock?: () => number): typeof fetch {
  const app = serverClock ? createApp({ clock: serverClock }) : null
  return async (input, init) => {
    const request = new Request(input, init)
    if (!app) return exports.default.fetch(request)
    const ctx = createExecutionContext()
    const res = await app.fetch(request, env, ctx)
    await waitOnExecutionContext(ctx)
    return res
  }
}

const noSleep = async () => {}

describe('signRequest', () => {
  it.each(vectors.vectors)('matches the known-answer vectors: $name', async (v) => {
    const common = { method: v.method, url: `https://api.example.com${v.path}`, body: v.body, keyId: v.key_id, secret: vectors.secret, timestamp: v.ts }
    const v2 = await signRequest({ ...common, nonce: v.nonce })
    expect(v2['X-KeyStack-Signature']).toBe(`v2=${v.v2}`)
    expect(v2['X-KeyStack-Timestamp']).toBe(String(v.ts))
    expect(v2['X-KeyStack-Key']).toBe(v.key_id)
    const v1 = await signRequest({ ...common, scheme: 'v1' })
    expect(v1['X-KeyStack-Signature']).toBe(`v1=${v.v1}`)
    expect(v1['X-KeyStack-Nonce']).toBeUndefined()
  })

  it('sends a fresh nonce every time', async () => {
    const input = { method: 'GET', url: `${BASE}/v1/keys`, keyId: 'key_x', secret: 'kss_x', timestamp: 1 }
    const a = await signRequest(input)
    const b = await signRequest(input)
    expect(a['X-KeyStack-Nonce']).toMatch(/^[A-Za-z0-9_-]{16,64}$/)
    expect(a['X-KeyStack-Nonce']).not.toBe(b['X-KeyStack-Nonce'])
    expect(a['X-KeyStack-Signature']).not.toBe(b['X-KeyStack-Signature'])
  })
})

describe('KeyStack client against the real Worker', () => {
  it('walks an account from creation to a validated license, with typed results', async () => {
    const operator = new KeyStack({ baseUrl: BASE, ...OPERATOR, fetch: workerFetch() })
    const { account, key } = await operator.accounts.create({ name: 'SDK Co' })
    expect(account.name).toBe('SDK Co')
    const admin = new KeyStack({ baseUrl: BASE, keyId: key.id, secret: key.secret, fetch: workerFetch() })
    const clientKey = await admin.keys.create({ scope: 'client', label: 'app' })
    const license = await admin.licenses.create({ max_machines: 1, entitlements: ['pro'] })
    const app = new KeyStack({ baseUrl: BASE, keyId: clientKey.id, secret: clientKey.secret, fetch: workerFetch() })
    const first = await app.licenses.activate({ key: license.key, fingerprint: 'fp' })
    expect(first.created).toBe(true)
    expect((await app.licenses.activate({ key: license.key, fingerprint: 'fp' })).created).toBe(false)
    expect(await app.licenses.validate({ key: license.key, fingerprint: 'fp', entitlements: ['pro'] })).toMatchObject({ valid: true, code: 'VALID' })
    const page = await admin.licenses.list({ limit: 1 })
    expect(page.data.map((l) => l.id)).toEqual([license.id])
    expect((await admin.keys.list()).map((k) => k.id)).toEqual([key.id, clientKey.id])
  })

  it('throws one error class with status, code, message and request id; no retry on a 4xx', async () => {
    let calls = 0
    const fetchOnce: typeof fetch = (input, init) => (calls++, workerFetch()(input, init))
    const bad = new KeyStack({ baseUrl: BASE, keyId: OPERATOR.keyId, secret: 'kss_wrong', fetch: fetchOnce, sleep: noSleep })
    const error = await bad.accounts.create({ name: 'x' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(KeyStackError)
    expect(error).toMatchObject({ status: 401, code: 'api/signature-mismatch' })
    expect((error as KeyStackError).message).toMatch(/signature/)
    expect((error as KeyStackError).requestId).toBeTruthy()
    expect(calls).toBe(1)
  })

  it('corrects a clock 10 minutes off and re-signs once', async () => {
    const serverNow = () => Date.now()
    const localNow = () => Date.now() - 10 * 60 * 1000 // this machine's clock is 10 minutes slow
    const sent: string[] = []
    const server = workerFetch(serverNow)
    const recording: typeof fetch = (input, init) => {
      sent.push(new Headers(init?.headers).get('X-KeyStack-Timestamp')!)
      return server(input, init)
    }
    const ks = new KeyStack({ baseUrl: BASE, ...OPERATOR, fetch: recording, now: localNow })
    const { account } = await ks.accounts.create({ name: 'Skewed Co' })
    expect(account.name).toBe('Skewed Co')
    expect(sent).toHaveLength(2)
    expect(Number(sent[1]) - Number(sent[0])).toBeGreaterThanOrEqual(599)
    expect(ks.clockOffsetMs).toBeGreaterThan(590_000)
    // Learnt: the next call is right the first time.
    await ks.accounts.create({ name: 'Skewed Co 2' })
    expect(sent).toHaveLength(3)
  })
})

describe('retries', () => {
  function scripted(answers: (Response | Error)[]) {
    const seen: Headers[] = []
    const fetchFn: typeof fetch = async (_input, init) => {
      seen.push(new Headers(init?.headers))
      const next = answers.shift()!
      if (next instanceof Error) throw next
      return next
    }
    return { fetchFn, seen }
  }
  const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'X-Request-Id': 'req-1' } })
  const unavailable = () => json(503, { error: { code: 'api/replay-store-unavailable', message: 'down' } })

  it('retries a 503 and a network error, re-signing every attempt (never a used signature)', async () => {
    const { fetchFn, seen } = scripted([unavailable(), new TypeError('connection reset'), json(200, { data: [] })])
    const delays: number[] = []
    const ks = new KeyStack({ baseUrl: BASE, keyId: 'key_a', secret: 'kss_a', fetch: fetchFn, sleep: async (ms) => void delays.push(ms), retry: { baseDelayMs: 100, maxDelayMs: 150 } })
    expect(await ks.keys.list()).toEqual([])
    const signatures = seen.map((h) => h.get('X-KeyStack-Signature'))
    expect(new Set(signatures).size).toBe(3)
    expect(new Set(seen.map((h) => h.get('X-KeyStack-Nonce'))).size).toBe(3)
    expect(delays).toHaveLength(2)
    for (const d of delays) expect(d).toBeLessThanOrEqual(150)
  })

  it('retries 429, honouring Retry-After within the cap', async () => {
    const limited = new Response('{"error":{"code":"api/rate-limited","message":"slow down"}}', { status: 429, headers: { 'Retry-After': '1' } })
    const { fetchFn } = scripted([limited, json(200, { data: [] })])
    const delays: number[] = []
    const ks = new KeyStack({ baseUrl: BASE, keyId: 'key_a', secret: 'kss_a', fetch: fetchFn, sleep: async (ms) => void delays.push(ms) })
    await ks.keys.list()
    expect(delays).toEqual([1000])
  })

  it('gives up after the configured retries with the last error', async () => {
    const { fetchFn, seen } = scripted([unavailable(), unavailable(), unavailable()])
    const ks = new KeyStack({ baseUrl: BASE, keyId: 'key_a', secret: 'kss_a', fetch: fetchFn, sleep: noSleep, retry: { retries: 2 } })
    await expect(ks.keys.list()).rejects.toMatchObject({ status: 503, code: 'api/replay-store-unavailable', requestId: 'req-1' })
    expect(seen).toHaveLength(3)
  })

  it('reports a network failure as client/network-error', async () => {
    const { fetchFn } = scripted([new TypeError('refused'), new TypeError('refused')])
    const ks = new KeyStack({ baseUrl: BASE, keyId: 'key_a', secret: 'kss_a', fetch: fetchFn, sleep: noSleep, retry: { retries: 1 } })
    await expect(ks.keys.list()).rejects.toMatchObject({ status: 0, code: 'client/network-error' })
  })
})

describe('v1 signing in the client', () => {
  it('never sends the same v1 signature twice, even for identical calls in one second', async () => {
    const seen: string[] = []
    const fetchFn: typeof fetch = async (_input, init) => {
      seen.push(new Headers(init?.headers).get('X-KeyStack-Signature')!)
      return new Response('{"data":[]}', { status: 200 })
    }
    const ks = new KeyStack({ baseUrl: BASE, keyId: 'key_a', secret: 'kss_a', scheme: 'v1', fetch: fetchFn, now: () => 1_800_000_000_000 })
    await ks.keys.list()
    await ks.keys.list()
    await ks.keys.list()
    expect(new Set(seen).size).toBe(3)
  })

  it('does not retry a creation after a network error (the first attempt may have been done)', async () => {
    let calls = 0
    const flaky: typeof fetch = async () => {
      calls++
      throw new TypeError('connection reset after sending')
    }
    const ks = new KeyStack({ baseUrl: BASE, keyId: 'key_a', secret: 'kss_a', fetch: flaky, sleep: noSleep })
    await expect(ks.licenses.create({ name: 'x' })).rejects.toMatchObject({ code: 'client/network-error' })
    expect(calls).toBe(1)
    calls = 0
    await expect(ks.licenses.validate({ key: 'K' })).rejects.toMatchObject({ code: 'client/network-error' })
    expect(calls).toBe(4)
  })
})
