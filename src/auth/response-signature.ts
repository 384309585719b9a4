import { createMiddleware } from 'hono/factory'
import { accountSigningKey, signWithAccountKey } from '../accounts/signing-key'
import type { AppEnv } from '../context'
import { ApiError, errorBody } from '../errors'

export const RESPONSE_SIGNATURE_HEADER = 'X-KeyStack-Response-Signature'

const encoder = new TextEncoder()

/** The bytes an answer's signature covers: `${requestSignatureHex}\n${status}\n` and the body. */
export function responseSignedBytes(requestSignatureHex: string, status: number, body: Uint8Array): Uint8Array<ArrayBuffer> {
  const head = encoder.encode(`${requestSignatureHex}\n${status}\n`)
  const out = new Uint8Array(head.length + body.length)
  out.set(head, 0)
  out.set(body, head.length)
  return out
}

/**
 * Signs every answer to a request whose signature verified, whatever its status, with the account's
 * Ed25519 key (contract section 5). It wraps everything else, so it runs once the body is final,
 * and it rebuilds the answer from the exact bytes it signed: nothing can change them afterwards.
 * Operator requests belong to no account and stay unsigned. If signing fails, the answer is an
 * unsigned 503 `api/signing-unavailable`, never an unsigned success.
 */
export function signResponses() {
  return createMiddleware<AppEnv>(async function signResponses(c, next) {
    await next()
    const verified = c.get('verified')
    const accountId = verified?.credential.accountId
    if (!verified || !accountId) return
    const original = c.res
    try {
      const body = new Uint8Array(await original.arrayBuffer())
      const key = await accountSigningKey(c.env, accountId, verified.credential.signingKeySealed)
      const signature = await signWithAccountKey(key, responseSignedBytes(verified.signature.hex, original.status, body))
      const headers = new Headers(original.headers)
      headers.set(RESPONSE_SIGNATURE_HEADER, signature)
      c.res = undefined
      c.res = new Response(body, { status: original.status, statusText: original.statusText, headers })
    } catch (err) {
      console.error(`[${c.get('requestId')}] could not sign the answer:`, err instanceof Error ? err.message : String(err))
      const error = new ApiError('api/signing-unavailable')
      const headers = new Headers({ 'Content-Type': 'application/json' })
      for (const name of ['X-Request-Id', 'X-KeyStack-Server-Time']) {
        const value = original.headers.get(name)
        if (value) headers.set(name, value)
      }
      c.res = undefined
      c.res = new Response(JSON.stringify(errorBody(error.code, error.message)), { status: error.status, headers })
    }
  })
}
