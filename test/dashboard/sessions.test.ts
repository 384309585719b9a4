import { env } from 'cloudflare:workers'
import { sign } from 'hono/jwt'
import { beforeAll, describe, expect, it } from 'vitest'
import { decoyHash, hashPassword, MIN_PASSWORD_LENGTH, PBKDF2_ITERATIONS, verifyPassword } from '../../src/dashboard/passwords'
import {
  ACCESS_TOKEN_TTL_S, issueAccessToken, LOGOUT_ALL_CACHE_MS, logOutEveryone, readAccessToken, REFRESH_TOKEN_TTL_S,
  REFRESH_RACE_GRACE_MS, revokeFamily, rotateRefreshToken, sessionEnded, sessionState, startSession,
} from '../../src/dashboard/sessions'
import { newAccount } from '../helpers'

const SECRET = 'jwt-secret-current-0123456789abcdef'
const OLD_SECRET = 'jwt-secret-previous-0123456789abcdef'
const T = 1_900_000_000 // seconds
let who: { userId: string; accountId: string }

beforeAll(async () => {
  const account = await newAccount('Dashboard Co')
  who = { userId: `usr_${account.accountId.slice(4)}`, accountId: account.accountId }
  await env.DB.prepare("INSERT INTO users (id, account_id, email, password_hash, created_at) VALUES (?, ?, ?, 'x', 0)")
    .bind(who.userId, who.accountId, `${who.userId}@example.com`)
    .run()
})

describe('passwords', () => {
  it('uses PBKDF2-SHA256 with exactly the 100,000 iterations production Workers allow', async () => {
    expect(PBKDF2_ITERATIONS).toBe(100_000)
    expect(MIN_PASSWORD_LENGTH).toBeGreaterThanOrEqual(8)
    const stored = await hashPassword('correct horse battery')
    expect(stored).toMatch(/^pbkdf2-sha256\$100000\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/)
    expect(await verifyPassword('correct horse battery', stored)).toBe(true)
    expect(await verifyPassword('correct horse batterY', stored)).toBe(false)
    expect(await hashPassword('correct horse battery')).not.toBe(stored) // a salt per user
    expect(await verifyPassword('anything', await decoyHash())).toBe(false)
    expect(await verifyPassword('anything', 'garbage')).toBe(false)
  })
})

describe('access tokens', () => {
  const claims = () => ({ ...who, familyId: 'fam_1' })

  it('live at most 10 minutes', async () => {
    expect(ACCESS_TOKEN_TTL_S).toBeLessThanOrEqual(600)
    const token = await issueAccessToken(SECRET, claims(), T)
    expect(await readAccessToken(token, { current: SECRET }, T)).toMatchObject({ sub: who.userId, acc: who.accountId, fam: 'fam_1' })
    expect(await readAccessToken(token, { current: SECRET }, T + ACCESS_TOKEN_TTL_S - 1)).not.toBeNull()
    expect(await readAccessToken(token, { current: SECRET }, T + ACCESS_TOKEN_TTL_S)).toBeNull()
  })

  it('refuses other secrets, tampering, tokens from the future and over-long lifetimes', async () => {
    const token = await issueAccessToken(SECRET, claims(), T)
    expect(await readAccessToken(token, { current: 'another secret entirely' }, T)).toBeNull()
    expect(await readAccessToken(token.slice(0, -2) + 'xx', { current: SECRET }, T)).toBeNull()
    expect(await readAccessToken(token, { current: SECRET }, T - 60)).toBeNull()
    const long = await sign({ sub: who.userId, acc: who.accountId, fam: 'f', iat: T, exp: T + 86400 }, SECRET, 'HS256')
    expect(await readAccessToken(long, { current: SECRET }, T)).toBeNull()
  })

  it('accepts the previous secret while it is configured (rotation without logging everyone out)', async () => {
    const old = await issueAccessToken(OLD_SECRET, claims(), T)
    expect(await readAccessToken(old, { current: SECRET, previous: OLD_SECRET }, T + 1)).not.toBeNull()
    // The previous secret is only needed for one access-token lifetime: by then its tokens expired.
    expect(await readAccessToken(old, { current: SECRET, previous: OLD_SECRET }, T + ACCESS_TOKEN_TTL_S)).toBeNull()
    expect(await readAccessToken(old, { current: SECRET }, T + 1)).toBeNull()
  })

  it('die with "log everyone out" (issued at or before it) and with a log-out of their session', () => {
    const live = { accountRevokedAt: null, familyRevoked: false }
    expect(sessionEnded({ iat: T }, live)).toBe(false)
    expect(sessionEnded({ iat: T }, { ...live, accountRevokedAt: (T + 1) * 1000 })).toBe(true)
    expect(sessionEnded({ iat: T + 1 }, { ...live, accountRevokedAt: (T + 1) * 1000 + 500 })).toBe(true)
    expect(sessionEnded({ iat: T + 2 }, { ...live, accountRevokedAt: (T + 1) * 1000 })).toBe(false)
    expect(sessionEnded({ iat: T + 2 }, { ...live, familyRevoked: true })).toBe(true)
  })
})

describe('"log everyone out"', () => {
  it('is one write, seen by every isolate within 60 seconds; a log-out of one session too', async () => {
    expect(LOGOUT_ALL_CACHE_MS).toBeLessThanOrEqual(60_000)
    const t0 = 2_000_000_000_000
    const session = await startSession(env.DB, who, t0)
    expect(await sessionState(env.DB, who.accountId, session.familyId, t0)).toEqual({ accountRevokedAt: null, familyRevoked: false }) // now cached
    const result = await logOutEveryone(env.DB, who.accountId, t0 + 1000)
    expect(result.meta.changes).toBe(1)
    // An isolate that read before the write may keep the old value, but only until the bound.
    expect((await sessionState(env.DB, who.accountId, session.familyId, t0 + LOGOUT_ALL_CACHE_MS)).accountRevokedAt).toBe(t0 + 1000)

    const other = await startSession(env.DB, who, t0 + 2000)
    expect((await sessionState(env.DB, who.accountId, other.familyId, t0 + 2000)).familyRevoked).toBe(false)
    await revokeFamily(env.DB, other.familyId, t0 + 3000)
    expect((await sessionState(env.DB, who.accountId, other.familyId, t0 + 2000 + LOGOUT_ALL_CACHE_MS)).familyRevoked).toBe(true)
  })
})

describe('refresh tokens', () => {
  const now = 2_100_000_000_000

  it('rotate on every use; the used token cannot be used again', async () => {
    const { refreshToken, familyId } = await startSession(env.DB, who, now)
    const next = await rotateRefreshToken(env.DB, refreshToken, now + 1000)
    expect(next).toMatchObject({ ok: true, userId: who.userId, accountId: who.accountId, familyId })
    if (!next.ok) return
    expect(next.refreshToken).not.toBe(refreshToken)
    const stored = await env.DB.prepare('SELECT token_hash FROM refresh_tokens WHERE family_id = ?').bind(familyId).all<{ token_hash: string }>()
    for (const row of stored.results) expect(row.token_hash).not.toContain(refreshToken.slice(3, 20)) // only hashes are stored
    expect((await rotateRefreshToken(env.DB, next.refreshToken, now + 2000)).ok).toBe(true)
  })

  it('revoke the whole family when a rotated token is used again (a stolen copy)', async () => {
    const { refreshToken } = await startSession(env.DB, who, now)
    const legit = await rotateRefreshToken(env.DB, refreshToken, now + 1000)
    expect(legit.ok).toBe(true)
    const later = now + 1000 + REFRESH_RACE_GRACE_MS
    expect(await rotateRefreshToken(env.DB, refreshToken, later)).toEqual({ ok: false, reason: 'reused' })
    // The thief's reuse also ends the legitimate holder's session.
    expect(await rotateRefreshToken(env.DB, (legit as { refreshToken: string }).refreshToken, later + 1)).toEqual({ ok: false, reason: 'revoked' })
  })

  it('let one of two simultaneous uses through, and do not punish the other (two tabs, not a thief)', async () => {
    const { refreshToken } = await startSession(env.DB, who, now)
    const results = await Promise.all([rotateRefreshToken(env.DB, refreshToken, now + 1), rotateRefreshToken(env.DB, refreshToken, now + 1)])
    expect(results.filter((r) => r.ok)).toHaveLength(1)
    expect(results.find((r) => !r.ok)).toEqual({ ok: false, reason: 'raced' })
    const winner = results.find((r) => r.ok) as { refreshToken: string }
    expect((await rotateRefreshToken(env.DB, winner.refreshToken, now + 2)).ok).toBe(true)
  })

  it('expire with the log-in, die with a log-out of their session or of everyone, and refuse strangers', async () => {
    const a = await startSession(env.DB, who, now)
    expect(await rotateRefreshToken(env.DB, a.refreshToken, now + REFRESH_TOKEN_TTL_S * 1000)).toEqual({ ok: false, reason: 'expired' })
    const b = await startSession(env.DB, who, now)
    await revokeFamily(env.DB, b.familyId, now + 1)
    expect(await rotateRefreshToken(env.DB, b.refreshToken, now + 2)).toEqual({ ok: false, reason: 'revoked' })
    const c = await startSession(env.DB, who, now)
    await logOutEveryone(env.DB, who.accountId, now + 5)
    expect(await rotateRefreshToken(env.DB, c.refreshToken, now + 6)).toEqual({ ok: false, reason: 'revoked' })
    const d = await startSession(env.DB, who, now + 10) // a log-in after it works
    expect((await rotateRefreshToken(env.DB, d.refreshToken, now + 11)).ok).toBe(true)
    expect(await rotateRefreshToken(env.DB, 'rt_not-a-token', now)).toEqual({ ok: false, reason: 'unknown' })
  })
})
