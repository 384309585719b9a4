import { getKeyCredential, touchKey } from '../keys/queries'
import { openSecret } from './secret-box'
import { importHmacKey } from './signature'

export type Scope = 'operator' | 'admin' | 'client'

/** A key as the auth layer needs it: who it belongs to, what it may do, and its HMAC key. */
export interface Credential {
  keyId: string
  scope: Scope
  /** Null for the operator key, which belongs to no account. */
  accountId: string | null
  revoked: boolean
  hmacKey: CryptoKey
  /** The account's sealed Ed25519 private key (null: the account has none yet, or the operator key). */
  signingKeySealed: string | null
}

/**
 * How long an isolate trusts what it read about a key. The kill switch promises that a revoked key
 * fails everywhere within 10 seconds, so this must stay well below that (a test guards it).
 */
export const CREDENTIAL_CACHE_TTL_MS = 5_000
/** Bounds the cache's memory; unknown key ids are cached too, so a flood of them cannot grow it. */
const CREDENTIAL_CACHE_MAX_ENTRIES = 10_000
/** `last_used_at` is coarse: one write per key per minute at most. */
export const LAST_USED_GRANULARITY_MS = 60_000

/** A small time-bounded map with insertion-order eviction. */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>()

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  get(key: string, nowMs: number): V | undefined {
    const entry = this.entries.get(key)
    if (!entry) return undefined
    if (entry.expiresAt <= nowMs) {
      this.entries.delete(key)
      return undefined
    }
    return entry.value
  }

  set(key: string, value: V, nowMs: number): void {
    this.entries.delete(key)
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!)
    this.entries.set(key, { value, expiresAt: nowMs + this.ttlMs })
  }

  delete(key: string): void {
    this.entries.delete(key)
  }
}

/** Per-isolate caches. Module scope is per isolate in Workers. */
const credentialCache = new TtlCache<Promise<Credential | null>>(CREDENTIAL_CACHE_TTL_MS, CREDENTIAL_CACHE_MAX_ENTRIES)
const lastUsedWrites = new TtlCache<true>(LAST_USED_GRANULARITY_MS, CREDENTIAL_CACHE_MAX_ENTRIES)

const KEY_ID = /^key_[A-Za-z0-9_-]{1,64}$/

/**
 * Finds the credential for a key id: the configured operator key, or an account key from D1
 * (cached per isolate for {@link CREDENTIAL_CACHE_TTL_MS}). Null if there is no such key.
 */
export function findCredential(env: Env, keyId: string, nowMs: number): Promise<Credential | null> {
  let found = credentialCache.get(keyId, nowMs)
  if (!found) {
    found = loadCredential(env, keyId)
    credentialCache.set(keyId, found, nowMs)
    // A failed lookup (D1 down) must not be remembered.
    found.catch(() => credentialCache.delete(keyId))
  }
  return found
}

async function loadCredential(env: Env, keyId: string): Promise<Credential | null> {
  if (env.KEYSTACK_OPERATOR_KEY_ID && keyId === env.KEYSTACK_OPERATOR_KEY_ID) {
    if (!env.KEYSTACK_OPERATOR_SECRET) return null
    return { keyId, scope: 'operator', accountId: null, revoked: false, hmacKey: await importHmacKey(env.KEYSTACK_OPERATOR_SECRET), signingKeySealed: null }
  }
  // Ids we never issue are unknown without a query.
  if (!KEY_ID.test(keyId)) return null
  // The one lookup not scoped by account: the key id is how we learn the account.
  const row = await getKeyCredential(env.DB, keyId)
  if (!row) return null
  const secret = await openSecret(env.KEYSTACK_MASTER_KEY, row.id, row.secret_sealed)
  return {
    keyId,
    scope: row.scope,
    accountId: row.account_id,
    revoked: row.revoked_at !== null,
    hmacKey: await importHmacKey(secret),
    signingKeySealed: row.signing_private_sealed,
  }
}

/** Forgets what this isolate knows of a key (after a revocation here, so this isolate reacts at once). */
export function forgetCredential(keyId: string): void {
  credentialCache.delete(keyId)
}

/**
 * Records that a key was used, at most once a minute per key and isolate; returns the write to hand
 * to `waitUntil`, or null when nothing needs writing.
 */
export function recordKeyUse(env: Env, credential: Credential, nowMs: number): Promise<unknown> | null {
  if (credential.accountId === null || lastUsedWrites.get(credential.keyId, nowMs)) return null
  lastUsedWrites.set(credential.keyId, true, nowMs)
  return touchKey(env.DB, credential.keyId, nowMs, LAST_USED_GRANULARITY_MS).catch((err) => {
    lastUsedWrites.delete(credential.keyId)
    console.error('could not record key use:', err instanceof Error ? err.message : String(err))
  })
}
