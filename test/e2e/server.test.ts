import { createHmac } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalServer, signV2, type Creds } from './server'

const server = new LocalServer()
beforeAll(() => server.start())
afterAll(() => server.dispose())

async function json(res: Response) {
  return { status: res.status, body: (await res.json()) as any }
}

describe('the real local server, started the README way', () => {
  let admin: Creds
  let client: Creds
  let preRestartRequest: { url: string; headers: Record<string, string>; body: string }

  it('serves /health with the server time', async () => {
    const res = await fetch(`${server.url}/health`)
    expect(res.status).toBe(200)
    expect(Math.abs(Number(res.headers.get('X-KeyStack-Server-Time')) - Date.now() / 1000)).toBeLessThan(5)
  })

  it('accepts the published seed snippet: createHmac over `${ts}.${body}`, bare hex', async () => {
    const { keyId, secret } = server.operator()
    const ts = Math.floor(Date.now() / 1000)
    const body = JSON.stringify({ name: 'E2E Games' })
    const signature = createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex')
    const res = await fetch(`${server.url}/v1/accounts`, {
      method: 'POST',
      headers: { 'X-KeyStack-Key': keyId, 'X-KeyStack-Timestamp': String(ts), 'X-KeyStack-Signature': signature, 'Content-Type': 'application/json' },
      body,
    })
    const { status, body: created } = await json(res)
    expect(status).toBe(201)
    admin = { keyId: created.key.id, secret: created.key.secret }
  })

  it('creates a client key with a v2-signed request, and refuses the same request again with 409', async () => {
    const req = signV2(admin, 'POST', `${server.url}/v1/keys`, JSON.stringify({ scope: 'client', label: 'app 1.0' }))
    preRestartRequest = { url: req.url, headers: Object.fromEntries(req.headers), body: JSON.stringify({ scope: 'client', label: 'app 1.0' }) }
    const first = await json(await fetch(req.clone()))
    expect(first.status).toBe(201)
    client = { keyId: first.body.key.id, secret: first.body.key.secret }
    const again = await json(await fetch(req))
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'api/timestamp-replay' } } })
  })

  it('gives every error as contract JSON with a request id', async () => {
    const res = await fetch(`${server.url}/v1/keys`)
    expect(res.status).toBe(401)
    expect(res.headers.get('X-Request-Id')).toBeTruthy()
    expect(await res.json()).toMatchObject({ error: { code: 'api/key-missing' } })
  })

  it('keeps data and replay memory through a hard restart of the server', async () => {
    await server.stop('SIGKILL')
    await server.start()
    // The replay of a signature accepted before the crash is still refused.
    const replay = await json(await fetch(preRestartRequest.url, { method: 'POST', headers: preRestartRequest.headers, body: preRestartRequest.body }))
    expect(replay).toMatchObject({ status: 409, body: { error: { code: 'api/timestamp-replay' } } })
    // The account and its keys are still there.
    const list = await json(await fetch(signV2(admin, 'GET', `${server.url}/v1/keys`)))
    expect(list.status).toBe(200)
    expect(list.body.data.map((k: { id: string }) => k.id)).toEqual([admin.keyId, client.keyId])
  })

  it('pulls the kill switch on a key', async () => {
    const revoked = await json(await fetch(signV2(admin, 'DELETE', `${server.url}/v1/keys/${client.keyId}`)))
    expect(revoked.status).toBe(200)
    const refused = await json(await fetch(signV2(client, 'GET', `${server.url}/v1/keys`)))
    expect(refused).toMatchObject({ status: 401, body: { error: { code: 'api/key-revoked' } } })
  })
})
