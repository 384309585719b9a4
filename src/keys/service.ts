import { forgetCredential } from '../auth/credentials'
import { ApiError } from '../errors'
import { getKey, insertKeyStatement, prepareKey, revokeKey, type ApiKeyRow, type KeyScope, type NewKey } from './queries'

// Key operations shared by the API and the dashboard.

export async function createKeyForAccount(env: Env, accountId: string, scope: KeyScope, label: string | null, nowMs: number): Promise<NewKey> {
  const { key, sealed } = await prepareKey(env.KEYSTACK_MASTER_KEY, accountId, scope, label, nowMs)
  await insertKeyStatement(env.DB, key.row, sealed).run()
  return key
}

/**
 * The kill switch: revokes a key (at once in this isolate, within the credential cache's lifetime
 * elsewhere). Revoking a revoked key changes nothing; the last active admin key is refused.
 */
export async function revokeKeyOfAccount(env: Env, accountId: string, keyId: string, nowMs: number): Promise<ApiKeyRow> {
  const revoked = await revokeKey(env.DB, accountId, keyId, nowMs)
  if (revoked) {
    forgetCredential(keyId)
    return revoked
  }
  const existing = await getKey(env.DB, accountId, keyId)
  if (!existing) throw new ApiError('key/not-found')
  if (existing.revoked_at !== null) return existing
  throw new ApiError('key/last-admin-key')
}
