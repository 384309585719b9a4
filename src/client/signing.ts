import { bytesToHex, signedBytes, type SignatureScheme } from '../auth/signature.ts'
import { toBase64Url } from '../encoding.ts'

export type { SignatureScheme }

export interface SignRequestInput {
  method: string
  /** The full URL you will send, e.g. `https://api.example.com/v1/licenses/validate`. */
  url: string | URL
  /** The exact body you will send (a string is sent as its UTF-8 bytes). */
  body?: string | Uint8Array | null
  keyId: string
  secret: string
  /** Default `v2`. */
  scheme?: SignatureScheme
  /** Unix seconds; default now. */
  timestamp?: number
  /** v2 only; default a fresh random nonce. */
  nonce?: string
}

const encoder = new TextEncoder()
const keys = new Map<string, Promise<CryptoKey>>()

/**
 * WebCrypto: the global one (Node 19+, Deno, Bun, browsers, Workers), else Node 18's `node:crypto`
 * (imported by a computed name, so bundlers for the browser leave it alone).
 */
let webCrypto: Promise<Crypto> | null = null
export function getCrypto(): Promise<Crypto> {
  if (!webCrypto) {
    const nodeCrypto = 'node:crypto'
    const global = (globalThis as { crypto?: Crypto }).crypto
    webCrypto = global?.subtle
      ? Promise.resolve(global)
      : import(/* @vite-ignore */ nodeCrypto).then((m: { webcrypto: Crypto }) => m.webcrypto)
  }
  return webCrypto
}

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret)
  if (!key) {
    key = getCrypto().then((c) => c.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']))
    if (keys.size > 100) keys.clear()
    keys.set(secret, key)
  }
  return key
}

/** 16 random bytes as base64url: a nonce that never repeats in practice. */
export async function randomNonce(): Promise<string> {
  return toBase64Url((await getCrypto()).getRandomValues(new Uint8Array(16)))
}

/**
 * Signs a request for the KeyStack API and returns the headers to send with it
 * (`X-KeyStack-Key`, `X-KeyStack-Timestamp`, `X-KeyStack-Signature`, and `X-KeyStack-Nonce` for v2).
 * Use it with any HTTP client; sign the exact body bytes and URL you send, and sign every retry anew.
 */
export async function signRequest(input: SignRequestInput): Promise<Record<string, string>> {
  const scheme = input.scheme ?? 'v2'
  const url = new URL(input.url)
  const timestamp = String(input.timestamp ?? Math.floor(Date.now() / 1000))
  const nonce = scheme === 'v2' ? (input.nonce ?? (await randomNonce())) : ''
  const body = input.body == null ? new Uint8Array(0) : typeof input.body === 'string' ? encoder.encode(input.body) : input.body
  const bytes = signedBytes(scheme, {
    timestamp,
    nonce,
    method: input.method,
    pathAndQuery: url.pathname + url.search,
    keyId: input.keyId,
    body,
  })
  const mac = await (await getCrypto()).subtle.sign('HMAC', await hmacKey(input.secret), bytes)
  const headers: Record<string, string> = {
    'X-KeyStack-Key': input.keyId,
    'X-KeyStack-Timestamp': timestamp,
    'X-KeyStack-Signature': `${scheme}=${bytesToHex(new Uint8Array(mac))}`,
  }
  if (nonce) headers['X-KeyStack-Nonce'] = nonce
  return headers
}
