// The real local server, started the README way (see scripts/local-server.mjs), and a v2 signer
// built on Node's own crypto, independent of the server's code.
import { createHmac, randomBytes } from 'node:crypto'
// @ts-expect-error: plain JS module shared with `npm run loadtest`
import { LocalServer as JsLocalServer } from '../../scripts/local-server.mjs'

export interface Creds {
  keyId: string
  secret: string
}

export interface LocalServer {
  readonly url: string
  start(): Promise<void>
  stop(signal?: NodeJS.Signals): Promise<void>
  dispose(): Promise<void>
  operator(): Creds
}

export const LocalServer = JsLocalServer as { new (): LocalServer }

/** A request signed with v2 (fresh nonce) as the SDK will send it, built with Node's own crypto. */
export function signV2(creds: Creds, method: string, url: string, body = '', ts = Math.floor(Date.now() / 1000)): Request {
  const u = new URL(url)
  const nonce = randomBytes(12).toString('base64url')
  const sig = createHmac('sha256', creds.secret)
    .update(`v2\n${ts}\n${nonce}\n${method}\n${u.pathname}${u.search}\n${creds.keyId}\n`)
    .update(body)
    .digest('hex')
  return new Request(url, {
    method,
    headers: {
      'X-KeyStack-Key': creds.keyId,
      'X-KeyStack-Timestamp': String(ts),
      'X-KeyStack-Nonce': nonce,
      'X-KeyStack-Signature': `v2=${sig}`,
      'Content-Type': 'application/json',
    },
    body: body || undefined,
  })
}
