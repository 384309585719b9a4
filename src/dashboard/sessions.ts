import { sign, verify } from 'hono/jwt'
import { toBase64Url } from '../encoding'
import { ulid } from '../ids'

/**
 * Dashboard sessions: a short-lived access JWT and a refresh token that rotates on every use.
 * Pure rules and their D1 statements; the clock is always passed in (tests use a double).
 */

/** Access tokens live 10 minutes at most. */
export const ACCESS_TOKEN_TTL_S = 600
/** A log-in lasts 30 days of refreshes. */
export const REFRESH_TOKEN_TTL_S = 30 * 24 * 3600
/**
 * How long an isolate trusts what it read of an account's "log everyone out" time: access tokens
 * issued before it stop working within this bound (the issue asks for 60 s at most).
 */
export const LOGOUT_ALL_CACHE_MS = 30_000

export interface AccessClaims {
  /** user id */
  sub: string
  /** account id */
  acc: string
  /** refresh-token family (the log-in), so one session can be logged out */
  fam: string
  iat: number
  exp: number
}

export interface JwtSecrets {
  current: string
  /** The secret before the last rotation: still accepted, for one access-token lifetime at most. */
  previous?: string
}

export function issueAccessToken(secret: string, who: { userId: string; accountId: string; familyId: string }, nowS: number): Promise<string> {
  const claims: AccessClaims = { sub: who.userId, acc: who.accountId, fam: who.familyId, iat: nowS, exp: nowS + ACCESS_TOKEN_TTL_S }
  return sign({ ...claims }, secret, 'HS256')
}

/**
 * The claims of a well-signed, current access token, or null: a bad signature (under both
 * secrets), an expired or future token, or an over-long lifetime. Whether its session was ended
 * since is {@link sessionEnded}'s question.
 */
export async function readAccessToken(token: string, secrets: JwtSecrets, nowS: number): Promise<AccessClaims | null> {
  for (const secret of [secrets.current, secrets.previous]) {
    if (!secret) continue
    let claims: AccessClaims
    try {
      // The clock is ours (exp/iat below), not hono's Date.now().
      claims = (await verify(token, secret, { alg: 'HS256', exp: false, nbf: false, iat: false })) as unknown as AccessClaims
    } catch {
      continue
    }
    if (typeof claims.exp !== 'number' || claims.exp <= nowS) return null
    if (typeof claims.iat !== 'number' || claims.iat > nowS + 5 || claims.exp - claims.iat > ACCESS_TOKEN_TTL_S) return null
    return claims
  }
  return null
}

/** A new random refresh token (256 bits) and the hash under which it is stored. */
export async function newRefreshToken(): Promise<{ token: string; hash: string }> {
  const token = `rt_${toBase64Url(crypto.getRandomValues(new Uint8Array(32)))}`
  return { token, hash: await hashRefreshToken(token) }
}

export async function hashRefreshToken(token: string): Promise<string> {
  return toBase64Url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token)))
}

export const newFamilyId = () => `fam_${ulid()}`

export interface RefreshRow {
  token_hash: string
  family_id: string
  user_id: string
  account_id: string
  created_at: number
  expires_at: number
  rotated_at: number | null
  revoked_at: number | null
}

export function insertRefreshToken(db: D1Database, row: Omit<RefreshRow, 'rotated_at' | 'revoked_at'>): D1PreparedStatement {
  return db
    .prepare('INSERT INTO refresh_tokens (token_hash, family_id, user_id, account_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)')
    .bind(row.token_hash, row.family_id, row.user_id, row.account_id, row.created_at, row.expires_at)
}

/** Starts a session (a log-in): a new family with its first refresh token. */
export async function startSession(db: D1Database, who: { userId: string; accountId: string }, nowMs: number) {
  const { token, hash } = await newRefreshToken()
  const familyId = newFamilyId()
  await insertRefreshToken(db, { token_hash: hash, family_id: familyId, user_id: who.userId, account_id: who.accountId, created_at: nowMs, expires_at: nowMs + REFRESH_TOKEN_TTL_S * 1000 }).run()
  return { refreshToken: token, familyId }
}

export type RotateResult =
  | { ok: true; refreshToken: string; userId: string; accountId: string; familyId: string }
  | { ok: false; reason: 'unknown' | 'expired' | 'revoked' | 'reused' | 'raced' }

/**
 * Two uses of one token this close together are a race between tabs of the same browser (both sent
 * the cookie before either got its successor), not a theft: the loser is refused without revoking.
 */
export const REFRESH_RACE_GRACE_MS = 2_000

/**
 * Uses a refresh token: marks it rotated and stores its successor in one D1 batch (one
 * transaction). The mark is a conditional UPDATE, so of two uses of the same token only one wins.
 * A token rotated earlier (beyond the race grace) is a stolen copy: its whole family is revoked.
 */
export async function rotateRefreshToken(db: D1Database, token: string, nowMs: number): Promise<RotateResult> {
  const hash = await hashRefreshToken(token)
  const next = await newRefreshToken()
  const [claimed] = await db.batch<RefreshRow>([
    db
      .prepare(
        `UPDATE refresh_tokens SET rotated_at = ?2
         WHERE token_hash = ?1 AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > ?2
           AND created_at > COALESCE((SELECT sessions_revoked_at FROM accounts WHERE id = refresh_tokens.account_id), -1)
         RETURNING token_hash, family_id, user_id, account_id, created_at, expires_at, rotated_at, revoked_at`,
      )
      .bind(hash, nowMs),
    // The successor exists only if the mark above happened (same family, same end of the log-in).
    db
      .prepare(
        `INSERT INTO refresh_tokens (token_hash, family_id, user_id, account_id, created_at, expires_at)
         SELECT ?3, family_id, user_id, account_id, ?2, expires_at FROM refresh_tokens
         WHERE token_hash = ?1 AND rotated_at = ?2 AND revoked_at IS NULL`,
      )
      .bind(hash, nowMs, next.hash),
  ])
  const row = claimed.results[0]
  if (row) return { ok: true, refreshToken: next.token, userId: row.user_id, accountId: row.account_id, familyId: row.family_id }

  const existing = await db.prepare('SELECT * FROM refresh_tokens WHERE token_hash = ?1').bind(hash).first<RefreshRow>()
  if (!existing) return { ok: false, reason: 'unknown' }
  if (existing.revoked_at !== null) return { ok: false, reason: 'revoked' }
  if (existing.rotated_at !== null) {
    if (nowMs - existing.rotated_at < REFRESH_RACE_GRACE_MS) return { ok: false, reason: 'raced' }
    await revokeFamily(db, existing.family_id, nowMs)
    return { ok: false, reason: 'reused' }
  }
  if (existing.expires_at <= nowMs) return { ok: false, reason: 'expired' }
  return { ok: false, reason: 'revoked' } // made before "log everyone out"
}

/** Log-out of one session: its whole family. */
export function revokeFamily(db: D1Database, familyId: string, nowMs: number): Promise<D1Result> {
  return db.prepare('UPDATE refresh_tokens SET revoked_at = ?2 WHERE family_id = ?1 AND revoked_at IS NULL').bind(familyId, nowMs).run()
}

/** "Log everyone out": one write. Every refresh token made until now dies; access tokens follow within the cache bound. */
export function logOutEveryone(db: D1Database, accountId: string, nowMs: number): Promise<D1Result> {
  return db.prepare('UPDATE accounts SET sessions_revoked_at = ?2 WHERE id = ?1').bind(accountId, nowMs).run()
}

/** What an isolate knows about a session: the account's "log everyone out" time, and whether its log-in was ended. */
export interface SessionState {
  accountRevokedAt: number | null
  familyRevoked: boolean
}

/**
 * True if the session of these claims was ended after the token was issued: "log everyone out"
 * at or after its issue time, or a log-out (or a detected theft) of its log-in.
 */
export function sessionEnded(claims: Pick<AccessClaims, 'iat'>, state: SessionState): boolean {
  return state.familyRevoked || (state.accountRevokedAt !== null && claims.iat <= Math.floor(state.accountRevokedAt / 1000))
}

/** Per-isolate cache of {@link SessionState}, bounded by {@link LOGOUT_ALL_CACHE_MS}: one D1 read per session and 30 s at most. */
const stateCache = new Map<string, { value: SessionState; until: number }>()

export async function sessionState(db: D1Database, accountId: string, familyId: string, nowMs: number): Promise<SessionState> {
  const key = `${accountId}|${familyId}`
  const cached = stateCache.get(key)
  if (cached && cached.until > nowMs) return cached.value
  const row = await db
    .prepare(
      `SELECT a.sessions_revoked_at AS revoked_at,
              EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.family_id = ?2 AND r.account_id = ?1 AND r.revoked_at IS NOT NULL) AS family_revoked
       FROM accounts a WHERE a.id = ?1`,
    )
    .bind(accountId, familyId)
    .first<{ revoked_at: number | null; family_revoked: number }>()
  const value: SessionState = { accountRevokedAt: row?.revoked_at ?? null, familyRevoked: !row || row.family_revoked === 1 }
  if (stateCache.size > 10_000) stateCache.clear()
  stateCache.set(key, { value, until: nowMs + LOGOUT_ALL_CACHE_MS })
  return value
}

/** Forgets what this isolate knows of an account's sessions (after a log-out here, so it acts at once here). */
export function forgetSessionState(accountId: string): void {
  for (const key of stateCache.keys()) if (key.startsWith(`${accountId}|`)) stateCache.delete(key)
}

/** Deletes a user's expired refresh tokens (at log-in), so the table stays bounded by live log-ins. */
export function deleteExpiredRefreshTokens(db: D1Database, userId: string, nowMs: number): Promise<D1Result> {
  return db.prepare('DELETE FROM refresh_tokens WHERE user_id = ?1 AND expires_at <= ?2').bind(userId, nowMs).run()
}
