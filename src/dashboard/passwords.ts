import { fromBase64Url, toBase64Url } from '../encoding'

/**
 * Dashboard passwords: PBKDF2-SHA256 through WebCrypto with a per-user random salt.
 * 100,000 iterations is the most production Workers allow (local workerd does not enforce the cap,
 * so a test guards this constant).
 */
export const PBKDF2_ITERATIONS = 100_000
export const MIN_PASSWORD_LENGTH = 10
const HASH_BITS = 256
const encoder = new TextEncoder()

async function derive(password: string, salt: Uint8Array<ArrayBuffer>, iterations: number): Promise<Uint8Array<ArrayBuffer>> {
  const material = await crypto.subtle.importKey('raw', encoder.encode(password), 'PBKDF2', false, ['deriveBits'])
  return new Uint8Array(await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, material, HASH_BITS))
}

/** `pbkdf2-sha256$<iterations>$<salt>$<hash>` (base64url), so the parameters can change later. */
export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16))
  const hash = await derive(password, salt, PBKDF2_ITERATIONS)
  return `pbkdf2-sha256$${PBKDF2_ITERATIONS}$${toBase64Url(salt)}$${toBase64Url(hash)}`
}

/** Constant-time check of a password against a stored hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, iterations, salt, hash] = stored.split('$')
  if (scheme !== 'pbkdf2-sha256' || !iterations || !salt || !hash) return false
  const expected = fromBase64Url(hash)
  const actual = await derive(password, fromBase64Url(salt), Number(iterations))
  return actual.length === expected.length && crypto.subtle.timingSafeEqual(actual, expected)
}

/**
 * A hash of a password nobody has, to check against when the email is unknown: an unknown email
 * then costs the same time as a wrong password, and the answer is the same.
 */
let decoy: Promise<string> | null = null
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(toBase64Url(crypto.getRandomValues(new Uint8Array(18))))
  return decoy
}
