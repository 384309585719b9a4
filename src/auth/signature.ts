/**
 * The request-signing schemes of the contract (section 2), as pure functions over bytes.
 * Nothing here touches storage or the network: it can be reviewed and tested alone.
 */

export type SignatureScheme = 'v1' | 'v2'

export interface ParsedSignature {
  scheme: SignatureScheme
  /** The digest in lower-case hex: the signature's identity for replay detection. */
  hex: string
  bytes: Uint8Array<ArrayBuffer>
}

export interface SignedParts {
  timestamp: string
  nonce: string
  method: string
  /** `pathname + search` of the request URL as the WHATWG URL parser serialises it. */
  pathAndQuery: string
  keyId: string
  body: Uint8Array
}

const HEX_64 = /^[0-9a-fA-F]{64}$/
const NONCE = /^[A-Za-z0-9_-]{1,64}$/
const TIMESTAMP = /^[0-9]{1,10}$/

/** Parses `X-KeyStack-Signature`: bare hex or `v1=<hex>` (v1), `v2=<hex>` (v2). Null if malformed. */
export function parseSignatureHeader(value: string): ParsedSignature | null {
  let scheme: SignatureScheme = 'v1'
  let hex = value
  if (value.startsWith('v1=') || value.startsWith('v2=')) {
    scheme = value.startsWith('v2=') ? 'v2' : 'v1'
    hex = value.slice(3)
  }
  if (!HEX_64.test(hex)) return null
  hex = hex.toLowerCase()
  return { scheme, hex, bytes: hexToBytes(hex) }
}

export type TimestampCheck =
  | { ok: true; seconds: number }
  | { ok: false; looksLikeMilliseconds: boolean }

/** Strict Unix seconds: 1 to 10 decimal digits and nothing else. */
export function parseTimestamp(value: string): TimestampCheck {
  if (TIMESTAMP.test(value)) return { ok: true, seconds: Number(value) }
  return { ok: false, looksLikeMilliseconds: /^[0-9]{12,14}$/.test(value) }
}

/** Absent or empty: the empty string; otherwise 1 to 64 of `[A-Za-z0-9_-]`, else null (malformed). */
export function parseNonce(value: string | undefined): string | null {
  if (value === undefined || value === '') return ''
  return NONCE.test(value) ? value : null
}

/** The skew window of the contract: accepted while |now - ts| <= 300 s. */
export const MAX_SKEW_SECONDS = 300

export function isWithinSkew(timestampSeconds: number, nowSeconds: number): boolean {
  return Math.abs(nowSeconds - timestampSeconds) <= MAX_SKEW_SECONDS
}

const encoder = new TextEncoder()

/** The exact bytes a scheme signs: its ASCII prefix followed by the raw body bytes. */
export function signedBytes(scheme: SignatureScheme, parts: SignedParts): Uint8Array<ArrayBuffer> {
  const prefix =
    scheme === 'v1'
      ? `${parts.timestamp}.`
      : `v2\n${parts.timestamp}\n${parts.nonce}\n${parts.method.toUpperCase()}\n${parts.pathAndQuery}\n${parts.keyId}\n`
  const head = encoder.encode(prefix)
  const out = new Uint8Array(head.length + parts.body.length)
  out.set(head, 0)
  out.set(parts.body, head.length)
  return out
}

/** Imports a secret (the UTF-8 bytes of the whole `kss_…` string) as an HMAC-SHA256 key. */
export function importHmacKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify'])
}

/** Constant-time check of a signature: WebCrypto's verify compares the MAC without early exit. */
export function verifySignature(key: CryptoKey, signature: ParsedSignature, parts: SignedParts): Promise<boolean> {
  return crypto.subtle.verify('HMAC', key, signature.bytes, signedBytes(signature.scheme, parts))
}

/** Computes a signature in lower-case hex (used by tests, tools and the local call script). */
export async function sign(key: CryptoKey, scheme: SignatureScheme, parts: SignedParts): Promise<string> {
  const mac = await crypto.subtle.sign('HMAC', key, signedBytes(scheme, parts))
  return bytesToHex(new Uint8Array(mac))
}

export function hexToBytes(hex: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16)
  return out
}

export function bytesToHex(bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) s += b.toString(16).padStart(2, '0')
  return s
}
