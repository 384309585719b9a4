import { fromBase64Url } from '../encoding.ts'
import { unarmourLicenseFile } from '../licenses/file-format.ts'
import { getCrypto } from './signing.ts'
import type { License, Machine } from './types.ts'

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const ED25519 = { name: 'Ed25519' }
const publicKeys = new Map<string, Promise<CryptoKey>>()

/** Imports a vendor's public key (raw 32 bytes, base64url, as `GET /v1/account` gives it). */
export function importPublicKey(publicKey: string): Promise<CryptoKey> {
  let key = publicKeys.get(publicKey)
  if (!key) {
    key = getCrypto().then((c) => c.subtle.importKey('raw', fromBase64Url(publicKey), ED25519, false, ['verify']))
    key.catch(() => publicKeys.delete(publicKey))
    publicKeys.set(publicKey, key)
  }
  return key
}

async function verifyEd25519(publicKey: string, signature: string, bytes: BufferSource): Promise<boolean> {
  try {
    const crypto = await getCrypto()
    return await crypto.subtle.verify(ED25519, await importPublicKey(publicKey), fromBase64Url(signature), bytes)
  } catch {
    return false
  }
}

/**
 * Checks `X-KeyStack-Response-Signature`: the account's Ed25519 signature of
 * `${requestSignatureHex}\n${status}\n` and the body bytes. Bound to the request's own signature,
 * so a recorded answer fails for any other request.
 */
export function verifyResponseSignature(
  publicKey: string,
  answer: { requestSignatureHex: string; status: number; body: Uint8Array; signature: string },
): Promise<boolean> {
  const head = encoder.encode(`${answer.requestSignatureHex.toLowerCase()}\n${answer.status}\n`)
  const bytes = new Uint8Array(head.length + answer.body.length)
  bytes.set(head, 0)
  bytes.set(answer.body, head.length)
  return verifyEd25519(publicKey, answer.signature, bytes)
}

export interface LicenseFilePayload {
  v: 1
  account_id: string
  license: License
  machine: Machine | null
  issued_at: string
  expires_at: string
}

export type LicenseFileCode = 'VALID' | 'FILE_EXPIRED' | 'LICENSE_EXPIRED' | 'FINGERPRINT_MISMATCH' | 'SIGNATURE_INVALID' | 'MALFORMED'

export interface LicenseFileResult {
  valid: boolean
  code: LicenseFileCode
  /** The payload once the signature checked out (also when expired or for another machine); null otherwise. */
  payload: LicenseFilePayload | null
}

/**
 * Verifies an offline license file against the vendor's public key, the clock and, if given, this
 * machine's fingerprint. Works offline in every JS runtime. Checks, in order: shape (MALFORMED),
 * signature (SIGNATURE_INVALID), the license's own expiry (LICENSE_EXPIRED), the file's expiry
 * (FILE_EXPIRED), the fingerprint (FINGERPRINT_MISMATCH, also when the file names no machine).
 */
export async function verifyLicenseFile(
  file: string,
  publicKey: string,
  options: { fingerprint?: string; now?: Date | number } = {},
): Promise<LicenseFileResult> {
  const parts = unarmourLicenseFile(file)
  if (!parts) return { valid: false, code: 'MALFORMED', payload: null }
  if (!(await verifyEd25519(publicKey, parts.signaturePart, encoder.encode(parts.payloadPart)))) {
    return { valid: false, code: 'SIGNATURE_INVALID', payload: null }
  }
  let payload: LicenseFilePayload
  try {
    payload = JSON.parse(decoder.decode(fromBase64Url(parts.payloadPart))) as LicenseFilePayload
    if (payload.v !== 1 || !payload.license || typeof payload.expires_at !== 'string') throw new Error('shape')
  } catch {
    return { valid: false, code: 'MALFORMED', payload: null }
  }
  const now = options.now === undefined ? Date.now() : Number(options.now)
  const verdict = (code: LicenseFileCode): LicenseFileResult => ({ valid: code === 'VALID', code, payload })
  if (payload.license.expires_at !== null && Date.parse(payload.license.expires_at) <= now) return verdict('LICENSE_EXPIRED')
  if (!(Date.parse(payload.expires_at) > now)) return verdict('FILE_EXPIRED')
  if (options.fingerprint !== undefined && payload.machine?.fingerprint !== options.fingerprint) return verdict('FINGERPRINT_MISMATCH')
  return verdict('VALID')
}
