import { newKeyId, newSecret } from '../ids'
import { sealSecret } from '../auth/secret-box'

export type KeyScope = 'admin' | 'client'

export interface ApiKeyRow {
  id: string
  account_id: string
  scope: KeyScope
  label: string | null
  created_at: number
  last_used_at: number | null
  revoked_at: number | null
}

const KEY_COLUMNS = 'id, account_id, scope, label, created_at, last_used_at, revoked_at'

/** A freshly made key: its row and the secret, which exists in clear only here and in the one response. */
export interface NewKey {
  row: ApiKeyRow
  secret: string
}

/** Makes a key's id, secret and sealed row; `insertKey` or the account creation batch stores it. */
export async function prepareKey(masterKey: string | undefined, accountId: string, scope: KeyScope, label: string | null, nowMs: number) {
  const id = newKeyId(nowMs)
  const secret = newSecret()
  const sealed = await sealSecret(masterKey, id, secret)
  const row: ApiKeyRow = { id, account_id: accountId, scope, label, created_at: nowMs, last_used_at: null, revoked_at: null }
  return { key: { row, secret } satisfies NewKey, sealed }
}

export function insertKeyStatement(db: D1Database, row: ApiKeyRow, sealed: string): D1PreparedStatement {
  return db
    .prepare('INSERT INTO api_keys (id, account_id, scope, label, secret_sealed, created_at) VALUES (?, ?, ?, ?, ?, ?)')
    .bind(row.id, row.account_id, row.scope, row.label, sealed, row.created_at)
}

export async function listKeys(db: D1Database, accountId: string): Promise<ApiKeyRow[]> {
  const { results } = await db
    .prepare(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE account_id = ? ORDER BY created_at, id`)
    .bind(accountId)
    .all<ApiKeyRow>()
  return results
}

export function getKey(db: D1Database, accountId: string, keyId: string): Promise<ApiKeyRow | null> {
  return db.prepare(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE id = ? AND account_id = ?`).bind(keyId, accountId).first<ApiKeyRow>()
}

/**
 * Revokes a key in one statement, unless it is the account's last active admin key: the count and
 * the update run as one SQLite statement, so two concurrent revocations cannot remove both of the
 * last two admin keys. Null when nothing was revoked (unknown, already revoked, or the last admin key).
 */
export function revokeKey(db: D1Database, accountId: string, keyId: string, nowMs: number): Promise<ApiKeyRow | null> {
  return db
    .prepare(
      `UPDATE api_keys SET revoked_at = ?1
       WHERE id = ?2 AND account_id = ?3 AND revoked_at IS NULL
         AND (scope <> 'admin'
              OR (SELECT COUNT(*) FROM api_keys WHERE account_id = ?3 AND scope = 'admin' AND revoked_at IS NULL) > 1)
       RETURNING ${KEY_COLUMNS}`,
    )
    .bind(nowMs, keyId, accountId)
    .first<ApiKeyRow>()
}

/** What the auth layer needs to verify a request signed with this key. */
export interface KeyCredentialRow {
  id: string
  account_id: string
  scope: KeyScope
  secret_sealed: string
  revoked_at: number | null
  /** The account's sealed Ed25519 private key, read in the same query for answer signing. */
  signing_private_sealed: string | null
}

export function getKeyCredential(db: D1Database, keyId: string): Promise<KeyCredentialRow | null> {
  return db
    .prepare(
      `SELECT k.id, k.account_id, k.scope, k.secret_sealed, k.revoked_at, a.signing_private_sealed
       FROM api_keys k JOIN accounts a ON a.id = k.account_id WHERE k.id = ?`,
    )
    .bind(keyId)
    .first<KeyCredentialRow>()
}

/** Records use of a key; the WHERE clause keeps it to one real write per minute even across isolates. */
export function touchKey(db: D1Database, keyId: string, nowMs: number, granularityMs: number): Promise<D1Result> {
  return db
    .prepare('UPDATE api_keys SET last_used_at = ?1 WHERE id = ?2 AND (last_used_at IS NULL OR last_used_at <= ?1 - ?3)')
    .bind(nowMs, keyId, granularityMs)
    .run()
}
