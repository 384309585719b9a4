import type { Context } from 'hono'
import { createMiddleware } from 'hono/factory'
import type { AppEnv } from '../context'
import { accountSigningKey } from '../accounts/signing-key'
import { ApiError } from '../errors'
import { findCredential, recordKeyUse, type Scope } from './credentials'
import { isWithinSkew, parseNonce, parseSignatureHeader, parseTimestamp, verifySignature } from './signature'

export const KEY_HEADER = 'X-KeyStack-Key'
export const TIMESTAMP_HEADER = 'X-KeyStack-Timestamp'
export const SIGNATURE_HEADER = 'X-KeyStack-Signature'
export const NONCE_HEADER = 'X-KeyStack-Nonce'

/**
 * Verifies the request signature (contract section 2), cheapest check first: header presence and
 * format, clock skew, key lookup, then the HMAC over the raw body. Touches no storage but the key
 * lookup; the replay store is consulted later, by {@link authorize}, once the scope allows the call.
 */
export function verifySignedRequest() {
  return createMiddleware<AppEnv>(async function verifySignedRequest(c, next) {
    const keyId = c.req.header(KEY_HEADER)
    if (keyId === undefined) throw new ApiError('api/key-missing')

    const timestampHeader = c.req.header(TIMESTAMP_HEADER)
    if (timestampHeader === undefined) throw new ApiError('api/timestamp-missing')
    const timestamp = parseTimestamp(timestampHeader)
    if (!timestamp.ok) {
      throw new ApiError(
        'api/timestamp-invalid',
        timestamp.looksLikeMilliseconds
          ? 'X-KeyStack-Timestamp looks like milliseconds; send Unix time in seconds (1 to 10 digits).'
          : undefined,
      )
    }

    const signatureHeader = c.req.header(SIGNATURE_HEADER)
    if (signatureHeader === undefined) throw new ApiError('api/signature-missing')
    const signature = parseSignatureHeader(signatureHeader)
    if (!signature) throw new ApiError('api/signature-malformed')
    // The nonce only exists in v2; v1 ignores the header.
    const nonce = signature.scheme === 'v2' ? parseNonce(c.req.header(NONCE_HEADER)) : ''
    if (nonce === null) throw new ApiError('api/signature-malformed', 'X-KeyStack-Nonce must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -.')

    const now = c.get('now')
    if (!isWithinSkew(timestamp.seconds, Math.floor(now / 1000))) throw new ApiError('api/timestamp-skew')

    const credential = await findCredential(c.env, keyId, now)
    if (!credential) throw new ApiError('api/key-unknown')
    if (credential.revoked) throw new ApiError('api/key-revoked')

    const body = new Uint8Array(await c.req.arrayBuffer())
    const url = new URL(c.req.url)
    const valid = await verifySignature(credential.hmacKey, signature, {
      timestamp: timestampHeader,
      nonce,
      method: c.req.method,
      pathAndQuery: url.pathname + url.search,
      keyId,
      body,
    })
    if (!valid) throw new ApiError('api/signature-mismatch')

    // The account key that will sign the answer must be at hand before the route changes anything:
    // if it is not, nothing happens and the answer is 503 (never a done deed with an unsigned answer).
    if (credential.accountId) {
      try {
        await accountSigningKey(c.env, credential.accountId, credential.signingKeySealed)
      } catch (err) {
        console.error(`[${c.get('requestId')}] account signing key unavailable:`, err instanceof Error ? err.message : String(err))
        throw new ApiError('api/signing-unavailable')
      }
    }

    c.set('verified', { credential, signature })
    const write = recordKeyUse(c.env, credential, now)
    if (write) c.executionCtx.waitUntil(write)
    treatBodyAsJson(c, body)
    await next()
  })
}

/**
 * Every body of this API is JSON. A client that forgets the Content-Type (curl's `-d` sends a form
 * type) still gets its JSON parsed, or a clear `api/invalid-json`, rather than a 415.
 */
function treatBodyAsJson(c: Context<AppEnv>, body: Uint8Array): void {
  const method = c.req.method
  if (method === 'GET' || method === 'HEAD') return
  if (/^application\/json\s*(;|$)/i.test(c.req.header('Content-Type') ?? '')) return
  const headers = new Headers(c.req.raw.headers)
  headers.set('Content-Type', 'application/json')
  c.req.raw = new Request(c.req.url, { method, headers, body: body.length > 0 ? body : null })
}

export interface AuthorizeOptions {
  /**
   * For read-only routes: run the route while the replay store answers, instead of after it, so a
   * request waits for the slower of the two, not their sum. The replay verdict still decides the
   * answer (409/503 replace whatever the route produced), so this is only safe for routes that
   * change nothing.
   */
  readOnly?: boolean
}

/**
 * Admits a verified request to a route: the key's scope must be one of `scopes` (else 403), then the
 * signature is claimed in the replay store (409 if seen, 503 if the store cannot answer: fail closed).
 */
export function authorize(scopes: readonly Scope[], options: AuthorizeOptions = {}) {
  return createMiddleware<AppEnv>(async function authorize(c, next) {
    const verified = c.get('verified')
    if (!verified) throw new Error('authorize() used on a route without verifySignedRequest()')
    if (!scopes.includes(verified.credential.scope)) throw new ApiError('api/forbidden')

    const claim = claimSignature(c, verified.signature.hex)
    c.set('replayAccepted', claim.accepted)
    if (!options.readOnly) {
      await claim.verdict()
      return next()
    }
    try {
      await next()
    } catch (err) {
      await claim.verdict() // a replay outranks whatever the route found wrong (contract: replay before body)
      throw err
    }
    await claim.verdict()
  })
}

/** Starts the replay claim at once; `verdict()` throws the contract's error when the request may not proceed. */
function claimSignature(c: Context<AppEnv>, signatureHex: string) {
  const outcome = c
    .get('replayStore')
    .claim(signatureHex, c.get('now'))
    .then(
      (fresh) => (fresh ? null : new ApiError('api/timestamp-replay')),
      (err: unknown) => {
        console.error(`[${c.get('requestId')}] replay store failed:`, err instanceof Error ? err.message : String(err))
        return new ApiError('api/replay-store-unavailable')
      },
    )
  return {
    accepted: outcome.then((error) => error === null),
    async verdict(): Promise<void> {
      const error = await outcome
      if (error) throw error
    },
  }
}

/** The account of a verified request; every account-scoped query takes it from here. */
export function accountOf(c: Context<AppEnv>): string {
  const accountId = c.get('verified').credential.accountId
  // Only the operator key has no account, and no account-scoped route admits the operator scope.
  if (!accountId) throw new ApiError('api/forbidden')
  return accountId
}
