import { env, exports } from 'cloudflare:workers'
import { importHmacKey, sign, type SignatureScheme } from '../src/auth/signature'

export interface Creds {
  keyId: string
  secret: string
}

export const OPERATOR: Creds = { keyId: env.KEYSTACK_OPERATOR_KEY_ID, secret: env.KEYSTACK_OPERATOR_SECRET }
export const BASE = 'http://keystack.test'

export interface SignOptions {
  scheme?: SignatureScheme
  /** Unix seconds; default now. */
  ts?: number | string
  nonce?: string
  headers?: Record<string, string>
  /** Sign this body but send `body`. */
  signedBody?: string
}

let nonceCounter = 0
const encoder = new TextEncoder()

/** Builds a signed request the way the official SDK does (v2, fresh nonce) unless told otherwise. */
export async function signedRequest(creds: Creds, method: string, path: string, body?: unknown, opts: SignOptions = {}): Promise<Request> {
  const scheme = opts.scheme ?? 'v2'
  const ts = String(opts.ts ?? Math.floor(Date.now() / 1000))
  const nonce = opts.nonce ?? (scheme === 'v2' ? `t${Date.now().toString(36)}${(nonceCounter++).toString(36)}` : '')
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body)
  const url = new URL(path, BASE)
  const sig = await sign(await importHmacKey(creds.secret), scheme, {
    timestamp: ts,
    nonce,
    method,
    pathAndQuery: url.pathname + url.search,
    keyId: creds.keyId,
    body: encoder.encode(opts.signedBody ?? text),
  })
  const headers: Record<string, string> = {
    'X-KeyStack-Key': creds.keyId,
    'X-KeyStack-Timestamp': ts,
    'X-KeyStack-Signature': `${scheme}=${sig}`,
    ...(text ? { 'Content-Type': 'application/json' } : {}),
    ...(nonce ? { 'X-KeyStack-Nonce': nonce } : {}),
    ...opts.headers,
  }
  return new Request(url, { method, headers, body: text || undefined })
}

/** Sends a request through the Worker's real entry point. */
export function send(request: Request): Promise<Response> {
  return exports.default.fetch(request)
}

export async function api(creds: Creds, method: string, path: string, body?: unknown, opts?: SignOptions): Promise<Response> {
  return send(await signedRequest(creds, method, path, body, opts))
}

/** Reads a contract error `{ error: { code } }` and returns its code. */
export async function errorCode(res: Response): Promise<string> {
  const body = (await res.json()) as { error?: { code?: string } }
  return body.error?.code ?? `(no error code; status ${res.status})`
}

export interface TestAccount {
  accountId: string
  admin: Creds
}

let accountCounter = 0
export async function newAccount(name = `Acme ${++accountCounter}`): Promise<TestAccount> {
  const res = await api(OPERATOR, 'POST', '/v1/accounts', { name })
  if (res.status !== 201) throw new Error(`account creation failed: ${res.status} ${await res.text()}`)
  const body = (await res.json()) as { account: { id: string }; key: { id: string; secret: string } }
  return { accountId: body.account.id, admin: { keyId: body.key.id, secret: body.key.secret } }
}

export async function newKey(admin: Creds, scope: 'admin' | 'client', label?: string): Promise<Creds> {
  const res = await api(admin, 'POST', '/v1/keys', { scope, label })
  if (res.status !== 201) throw new Error(`key creation failed: ${res.status} ${await res.text()}`)
  const { key } = (await res.json()) as { key: { id: string; secret: string } }
  return { keyId: key.id, secret: key.secret }
}
