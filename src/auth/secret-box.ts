import { fromBase64Url, toBase64Url } from '../encoding'

/**
 * Secrets at rest (API key secrets, accounts' Ed25519 private keys). The server must be able to use
 * them, so they are encrypted, not hashed: AES-256-GCM under a key derived (HKDF-SHA256) from
 * KEYSTACK_MASTER_KEY, with the owner's id as associated data (`boundTo`), so a ciphertext copied
 * onto another row does not open. A copy of D1 alone therefore reveals no usable secret.
 */

const FORMAT = 'v1'
const encoder = new TextEncoder()
const decoder = new TextDecoder()
const derived = new Map<string, Promise<CryptoKey>>()

/** Decodes and checks the master key (base64url, at least 32 bytes). */
export function masterKeyBytes(masterKey: string | undefined): Uint8Array {
  if (!masterKey) throw new Error('KEYSTACK_MASTER_KEY is not configured')
  let bytes: Uint8Array
  try {
    bytes = fromBase64Url(masterKey.trim())
  } catch {
    throw new Error('KEYSTACK_MASTER_KEY is not base64url')
  }
  if (bytes.length < 32) throw new Error('KEYSTACK_MASTER_KEY must hold at least 32 bytes')
  return bytes
}

function encryptionKey(masterKey: string | undefined): Promise<CryptoKey> {
  const cacheKey = masterKey ?? ''
  let key = derived.get(cacheKey)
  if (!key) {
    key = (async () => {
      const ikm = await crypto.subtle.importKey('raw', masterKeyBytes(masterKey), 'HKDF', false, ['deriveKey'])
      return crypto.subtle.deriveKey(
        { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: encoder.encode('keystack/api-key-secret/v1') },
        ikm,
        { name: 'AES-GCM', length: 256 },
        false,
        ['encrypt', 'decrypt'],
      )
    })()
    key.catch(() => derived.delete(cacheKey))
    derived.set(cacheKey, key)
  }
  return key
}

/** Encrypts a secret for storage: `v1.<iv>.<ciphertext>` in base64url. */
export async function sealSecret(masterKey: string | undefined, boundTo: string, secret: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12))
  const ciphertext = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: encoder.encode(boundTo) },
    await encryptionKey(masterKey),
    encoder.encode(secret),
  )
  return `${FORMAT}.${toBase64Url(iv)}.${toBase64Url(ciphertext)}`
}

/** Decrypts a stored secret; throws if it was sealed for another owner or under another master key. */
export async function openSecret(masterKey: string | undefined, boundTo: string, sealed: string): Promise<string> {
  const [format, iv, ciphertext] = sealed.split('.')
  if (format !== FORMAT || !iv || !ciphertext) throw new Error(`stored secret of ${boundTo} has an unknown format`)
  const plaintext = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: fromBase64Url(iv), additionalData: encoder.encode(boundTo) },
    await encryptionKey(masterKey),
    fromBase64Url(ciphertext),
  )
  return decoder.decode(plaintext)
}
