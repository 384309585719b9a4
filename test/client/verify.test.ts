import { exports } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { KeyStack, KeyStackError, ResponseVerificationError } from '../../src/client/index.ts'
import { api, newAccount, newKey, type Creds } from '../helpers'

const BASE = 'http://keystack.test'
const worker: typeof fetch = (input, init) => exports.default.fetch(new Request(input, init))
let client: Creds
let publicKey: string
let licenseKey: string

beforeAll(async () => {
  const acme = await newAccount('Verify SDK Co')
  client = await newKey(acme.admin, 'client')
  publicKey = ((await (await api(acme.admin, 'GET', '/v1/account')).json()) as { account: { public_key: string } }).account.public_key
  licenseKey = ((await (await api(acme.admin, 'POST', '/v1/licenses', {})).json()) as { license: { key: string } }).license.key
})

const sdk = (fetchFn: typeof fetch, key = publicKey) =>
  new KeyStack({ baseUrl: BASE, ...client, publicKey: key, fetch: fetchFn, sleep: async () => {}, retry: { retries: 1 } })

describe('the SDK with the vendor public key', () => {
  it('accepts genuine answers, success and error alike', async () => {
    expect(await sdk(worker).licenses.validate({ key: licenseKey })).toMatchObject({ valid: true, code: 'VALID' })
    const error = await sdk(worker).licenses.activate({ key: 'NO-SUCH-KEY', fingerprint: 'f' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(KeyStackError)
    expect(error).not.toBeInstanceOf(ResponseVerificationError)
    expect(error).toMatchObject({ status: 404, code: 'license/not-found' })
  })

  it('refuses a fake server: an unsigned "valid" answer', async () => {
    const fake: typeof fetch = async () =>
      Response.json({ valid: true, code: 'VALID', license: null, machine: null }, { headers: { 'X-Request-Id': 'fake' } })
    const error = await sdk(fake).licenses.validate({ key: licenseKey }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ResponseVerificationError)
    expect(error).toMatchObject({ code: 'client/response-signature-missing', status: 200 })
  })

  it('refuses a recorded genuine answer replayed for another request, and a changed body', async () => {
    let recorded: { body: string; headers: Headers } | null = null
    const recorder: typeof fetch = async (input, init) => {
      const res = await worker(input, init)
      recorded = { body: await res.clone().text(), headers: res.headers }
      return res
    }
    await sdk(recorder).licenses.validate({ key: licenseKey })
    const replayer: typeof fetch = async () => new Response(recorded!.body, { status: 200, headers: recorded!.headers })
    await expect(sdk(replayer).licenses.validate({ key: licenseKey })).rejects.toMatchObject({ code: 'client/response-signature-invalid' })
    const tamper: typeof fetch = async (input, init) => {
      const res = await worker(input, init)
      const text = (await res.text()).replace('"valid":true', '"valid":false')
      return new Response(text, { status: res.status, headers: res.headers })
    }
    await expect(sdk(tamper).licenses.validate({ key: licenseKey })).rejects.toBeInstanceOf(ResponseVerificationError)
  })

  it('refuses answers signed by another key', async () => {
    const other = await newAccount('Not The Vendor Co')
    const otherKey = ((await (await api(other.admin, 'GET', '/v1/account')).json()) as { account: { public_key: string } }).account.public_key
    await expect(sdk(worker, otherKey).licenses.validate({ key: licenseKey })).rejects.toMatchObject({ code: 'client/response-signature-invalid' })
  })

  it('treats the unsigned 503 api/signing-unavailable as a retryable server error, not a forgery', async () => {
    let calls = 0
    const unavailable: typeof fetch = async () => {
      calls++
      return Response.json({ error: { code: 'api/signing-unavailable', message: 'cannot sign' } }, { status: 503 })
    }
    const error = await sdk(unavailable).licenses.validate({ key: licenseKey }).catch((e: unknown) => e)
    expect(error).not.toBeInstanceOf(ResponseVerificationError)
    expect(error).toMatchObject({ status: 503, code: 'api/signing-unavailable' })
    expect(calls).toBe(2)
  })
})

describe('unsigned errors from before verification', () => {
  it('still correct the clock and surface api/key-revoked with the public key set', async () => {
    const { createApp } = await import('../../src/app')
    const { env } = await import('cloudflare:workers')
    const { createExecutionContext, waitOnExecutionContext } = await import('cloudflare:test')
    const app = createApp({ clock: () => Date.now() + 10 * 60 * 1000 }) // the server is 10 minutes ahead
    const skewed: typeof fetch = async (input, init) => {
      const ctx = createExecutionContext()
      const res = await app.fetch(new Request(input, init), env, ctx)
      await waitOnExecutionContext(ctx)
      return res
    }
    expect(await sdk(skewed).licenses.validate({ key: licenseKey })).toMatchObject({ valid: true })
    const unknownKey = new KeyStack({ baseUrl: BASE, keyId: 'key_01JH8Z5Q1V0M6T4W9R3C2N7B5X', secret: 'kss_x', publicKey, fetch: worker })
    await expect(unknownKey.licenses.validate({ key: licenseKey })).rejects.toMatchObject({ status: 401, code: 'api/key-unknown' })
  })
})
