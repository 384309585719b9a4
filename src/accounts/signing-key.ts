import { openSecret, sealSecret } from '../auth/secret-box'
import { fromBase64Url, toBase64Url } from '../encoding'

/**
 * Each account's Ed25519 key pair: it signs the account's answers and offline license files. The
 * public key (raw 32 bytes, base64url) is what a vendor bakes into the app; the private key is kept
 * as sealed PKCS#8 (workerd exports Ed25519 private keys as PKCS#8 or JWK, not raw).
 */
export interface NewSigningKey {
  publicKey: string
  sealedPrivateKey: string
}

const ED25519 = { name: 'Ed25519' } as const
const boundTo = (accountId: string) => `${accountId}/ed25519`

export async function generateSigningKey(masterKey: string | undefined, accountId: string): Promise<NewSigningKey> {
  const pair = (await crypto.subtle.generateKey(ED25519, true, ['sign', 'verify'])) as CryptoKeyPair
  const publicRaw = (await crypto.subtle.exportKey('raw', pair.publicKey)) as ArrayBuffer
  const pkcs8 = (await crypto.subtle.exportKey('pkcs8', pair.privateKey)) as ArrayBuffer
  return {
    publicKey: toBase64Url(publicRaw),
    sealedPrivateKey: await sealSecret(masterKey, boundTo(accountId), toBase64Url(pkcs8)),
  }
}

/** Per-isolate cache of imported private keys: a key never changes, so only memory bounds it. */
const imported = new Map<string, Promise<CryptoKey>>()
const MAX_CACHED_KEYS = 10_000

async function importPrivateKey(masterKey: string | undefined, accountId: string, sealed: string): Promise<CryptoKey> {
  const pkcs8 = fromBase64Url(await openSecret(masterKey, boundTo(accountId), sealed))
  return crypto.subtle.importKey('pkcs8', pkcs8, ED25519, false, ['sign'])
}

/**
 * The account's private signing key. `sealed` is what the key lookup read with the credential;
 * null for an account made before keys existed, which gets its pair now (once: the conditional
 * UPDATE lets one writer win, and everyone then uses the stored pair).
 */
export function accountSigningKey(env: Env, accountId: string, sealed: string | null): Promise<CryptoKey> {
  let key = imported.get(accountId)
  if (!key) {
    key = (async () => importPrivateKey(env.KEYSTACK_MASTER_KEY, accountId, sealed ?? (await ensureSigningKey(env, accountId))))()
    key.catch(() => imported.delete(accountId))
    if (imported.size >= MAX_CACHED_KEYS) imported.delete(imported.keys().next().value!)
    imported.set(accountId, key)
  }
  return key
}

/** Gives an account without a key pair one, and returns the stored sealed private key. */
export async function ensureSigningKey(env: Env, accountId: string): Promise<string> {
  const fresh = await generateSigningKey(env.KEYSTACK_MASTER_KEY, accountId)
  const [, stored] = await env.DB.batch<{ signing_private_sealed: string }>([
    env.DB.prepare('UPDATE accounts SET signing_public_key = ?1, signing_private_sealed = ?2 WHERE id = ?3 AND signing_private_sealed IS NULL').bind(
      fresh.publicKey,
      fresh.sealedPrivateKey,
      accountId,
    ),
    env.DB.prepare('SELECT signing_private_sealed FROM accounts WHERE id = ?1').bind(accountId),
  ])
  const sealed = stored.results[0]?.signing_private_sealed
  if (!sealed) throw new Error(`account ${accountId} not found while making its signing key`)
  return sealed
}

/** The account's public key, making the pair first if the account has none yet. */
export async function accountPublicKey(env: Env, accountId: string): Promise<string> {
  const row = await env.DB.prepare('SELECT signing_public_key FROM accounts WHERE id = ?1').bind(accountId).first<{ signing_public_key: string | null }>()
  if (row?.signing_public_key) return row.signing_public_key
  await ensureSigningKey(env, accountId)
  const again = await env.DB.prepare('SELECT signing_public_key FROM accounts WHERE id = ?1').bind(accountId).first<{ signing_public_key: string }>()
  return again!.signing_public_key
}

/** Ed25519 signature of `bytes` with the account's key, base64url. */
export async function signWithAccountKey(key: CryptoKey, bytes: Uint8Array): Promise<string> {
  return toBase64Url(await crypto.subtle.sign(ED25519, key, bytes))
}
