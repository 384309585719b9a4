import { toBase64Url } from './encoding'

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/**
 * A ULID (48-bit millisecond time + 80 random bits, Crockford base32): ids sort by creation
 * time, which keeps listings in a stable order.
 */
export function ulid(nowMs: number = Date.now()): string {
  let time = ''
  let t = nowMs
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time
    t = Math.floor(t / 32)
  }
  const random = crypto.getRandomValues(new Uint8Array(16))
  let rest = ''
  for (const byte of random) rest += CROCKFORD[byte & 31]
  return time + rest
}

export const newAccountId = (nowMs?: number) => `acc_${ulid(nowMs)}`
export const newKeyId = (nowMs?: number) => `key_${ulid(nowMs)}`

/** An API secret: `kss_` and 256 random bits in base64url. */
export function newSecret(): string {
  return `kss_${toBase64Url(crypto.getRandomValues(new Uint8Array(32)))}`
}

/** RFC 3339 in UTC, as every timestamp of the API. */
export const rfc3339 = (ms: number) => new Date(ms).toISOString()
export const rfc3339OrNull = (ms: number | null) => (ms === null ? null : rfc3339(ms))

export const newLicenseId = (nowMs?: number) => `lic_${ulid(nowMs)}`
export const newMachineId = (nowMs?: number) => `mch_${ulid(nowMs)}`
