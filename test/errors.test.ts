import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { createApp, MAX_BODY_BYTES } from '../src/app'
import { ERROR_CODES } from '../src/errors'
import { api, errorCode, newAccount, send, signedRequest, type TestAccount } from './helpers'

let acme: TestAccount
beforeAll(async () => {
  acme = await newAccount('Errors Co')
})

const keyCount = async () => (await env.DB.prepare('SELECT COUNT(*) AS n FROM api_keys').first<{ n: number }>())!.n

describe('body limit', () => {
  it('refuses a body over 64 KiB by its Content-Length, before any other check', async () => {
    const big = JSON.stringify({ scope: 'client', label: 'x'.repeat(MAX_BODY_BYTES) })
    const res = await send(new Request('http://keystack.test/v1/keys', { method: 'POST', body: big }))
    expect(res.status).toBe(413)
    expect(await errorCode(res)).toBe('api/body-too-large')
  })

  it('refuses a streamed body (no Content-Length) once it passes 64 KiB, and changes nothing', async () => {
    const before = await keyCount()
    // A body that would be accepted but for its size (valid JSON, padded with whitespace).
    const padded = JSON.stringify({ scope: 'client', label: 'streamed' }) + ' '.repeat(MAX_BODY_BYTES)
    const signed = await signedRequest(acme.admin, 'POST', '/v1/keys', padded)
    const chunks = new Uint8Array(await signed.arrayBuffer())
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < chunks.length; i += 4096) controller.enqueue(chunks.slice(i, i + 4096))
        controller.close()
      },
    })
    const headers = new Headers(signed.headers)
    headers.delete('Content-Length')
    const res = await send(new Request(signed.url, { method: 'POST', headers, body: stream, duplex: 'half' } as RequestInit))
    expect(res.status).toBe(413)
    expect(await errorCode(res)).toBe('api/body-too-large')
    expect(await keyCount()).toBe(before)
  })

  it('accepts a body of exactly 64 KiB', async () => {
    const base = JSON.stringify({ scope: 'client', label: '' })
    const body = base + ' '.repeat(MAX_BODY_BYTES - base.length)
    expect(new TextEncoder().encode(body).length).toBe(MAX_BODY_BYTES)
    const res = await api(acme.admin, 'POST', '/v1/keys', body)
    expect(res.status).toBe(201)
  })
})

describe('one error shape for every layer', () => {
  it('answers unknown routes, outside /v1 too, with JSON and the headers', async () => {
    const res = await send(new Request('http://keystack.test/favicon.ico'))
    expect(res.status).toBe(404)
    expect(res.headers.get('Content-Type')).toMatch(/application\/json/)
    expect(await res.json()).toEqual({ error: { code: 'api/not-found', message: ERROR_CODES['api/not-found'][1] } })
    expect(res.headers.get('X-Request-Id')).toBeTruthy()
  })

  it('turns an unexpected failure (D1 down) into 500 api/internal without internals', async () => {
    const brokenDb = {
      prepare: () => {
        throw new Error('D1_ERROR: secret internal detail')
      },
    }
    const ctx = createExecutionContext()
    const req = await signedRequest(acme.admin, 'GET', '/v1/keys')
    const res = await createApp().fetch(req, { ...env, DB: brokenDb as unknown as D1Database }, ctx)
    await waitOnExecutionContext(ctx)
    expect(res.status).toBe(500)
    const text = await res.text()
    expect(JSON.parse(text).error.code).toBe('api/internal')
    expect(text).not.toMatch(/D1_ERROR|secret internal|at /)
    expect(res.headers.get('X-Request-Id')).toBeTruthy()
    expect(res.headers.get('X-KeyStack-Server-Time')).toMatch(/^\d+$/)
  })

  it('echoes a client-supplied X-Request-Id so a vendor can correlate logs', async () => {
    const res = await send(new Request('http://keystack.test/health', { headers: { 'X-Request-Id': 'vendor-trace-42' } }))
    expect(res.headers.get('X-Request-Id')).toBe('vendor-trace-42')
  })
})

describe('public endpoints', () => {
  it('GET /health', async () => {
    const res = await send(new Request('http://keystack.test/health'))
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'ok' })
    expect(res.headers.get('X-KeyStack-Server-Time')).toMatch(/^\d+$/)
  })

  it('GET /openapi.json documents every /v1 route with the scopes it admits', async () => {
    const doc = (await (await send(new Request('http://keystack.test/openapi.json'))).json()) as {
      openapi: string
      paths: Record<string, Record<string, { security?: Record<string, string[]>[] }>>
    }
    expect(doc.openapi).toBe('3.1.0')
    expect(doc.paths['/v1/accounts'].post.security).toEqual([{ KeyStackSignature: ['operator'] }])
    expect(doc.paths['/v1/keys/{id}'].delete.security).toEqual([{ KeyStackSignature: ['admin'] }])
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (!path.startsWith('/v1/')) continue
      for (const op of Object.values(ops)) expect(op.security?.[0]?.KeyStackSignature?.length).toBeGreaterThan(0)
    }
  })

  it('every /v1 route the app serves is declared with its scopes (none bypasses authorize)', async () => {
    const doc = (await (await send(new Request('http://keystack.test/openapi.json'))).json()) as { paths: Record<string, Record<string, unknown>> }
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`)),
    )
    const served = createApp()
      .routes.filter((r) => r.path.startsWith('/v1/') && r.path !== '/v1/*' && r.method !== 'ALL')
      .map((r) => `${r.method} ${r.path}`)
    expect(served.length).toBeGreaterThan(0)
    for (const route of served) expect(documented).toContain(route)
  })
})

describe('GET /docs', () => {
  it('renders every operation and schema as a self-contained page', async () => {
    const res = await send(new Request('http://keystack.test/docs'))
    expect(res.status).toBe(200)
    expect(res.headers.get('Content-Type')).toMatch(/text\/html/)
    expect(res.headers.get('Content-Security-Policy')).toContain("default-src 'none'")
    const page = await res.text()
    for (const fragment of ['POST</span> <code>/v1/licenses/validate', 'DELETE</span> <code>/v1/keys/{id}', 'key scopes: client, admin', 'license/key-taken', 'id="schema-License"']) {
      expect(page).toContain(fragment)
    }
    expect(page).not.toMatch(/<script|https?:\/\/(?!keystack)/)
  })
})

describe('the OpenAPI document', () => {
  it('declares the signing scheme, every error response of an operation, and the request schemas', async () => {
    const doc = (await (await send(new Request('http://keystack.test/openapi.json'))).json()) as any
    expect(doc.components.securitySchemes.KeyStackSignature).toMatchObject({ type: 'apiKey', in: 'header', name: 'X-KeyStack-Signature' })
    const activate = doc.paths['/v1/licenses/activate'].post
    expect(Object.keys(activate.responses).sort()).toEqual(['200', '201', '400', '401', '403', '404', '409', '413', '422', '500', '503'])
    expect(activate.responses['422'].description).toContain('license/suspended')
    expect(activate.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/ActivateRequest')
    expect(doc.components.schemas.License.required).toContain('machines_count')
  })
})
