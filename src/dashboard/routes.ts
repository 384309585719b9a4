import { Hono, type Context } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import { csrf } from 'hono/csrf'
import { createMiddleware } from 'hono/factory'
import { secureHeaders } from 'hono/secure-headers'
import { activityOfAccount } from '../activity'
import { createAccount, getAccount } from '../accounts/queries'
import { MAX_BODY_BYTES } from '../limits'
import { bodyLimit } from 'hono/body-limit'
import { accountPublicKey } from '../accounts/signing-key'
import type { AppEnv } from '../context'
import { ApiError, ERROR_CODES, type ErrorCode } from '../errors'
import { ulid } from '../ids'
import { getKey, listKeys } from '../keys/queries'
import { createKeyForAccount, revokeKeyOfAccount } from '../keys/service'
import { CreateLicenseBody, UpdateLicenseBody } from '../licenses/schemas'
import * as q from '../licenses/queries'
import { changeLicenseStatus, createLicenseForAccount, updateLicenseOfAccount, type LicenseInput } from '../licenses/service'
import { decodeCursor, encodeCursor } from '../pagination'
import * as pages from './pages'
import { decoyHash, hashPassword, MIN_PASSWORD_LENGTH, verifyPassword } from './passwords'
import {
  ACCESS_TOKEN_TTL_S, deleteExpiredRefreshTokens, forgetSessionState, issueAccessToken, logOutEveryone, readAccessToken,
  REFRESH_TOKEN_TTL_S, revokeFamily, rotateRefreshToken, sessionEnded, sessionState, startSession, type JwtSecrets,
} from './sessions'

type DashboardEnv = AppEnv
type DashboardContext = Context<DashboardEnv>

const ACCESS_COOKIE = 'ks_access'
const REFRESH_COOKIE = 'ks_refresh'
const COOKIE_PATH = '/dashboard'

const secrets = (env: Env): JwtSecrets => ({ current: env.KEYSTACK_JWT_SECRET, previous: env.KEYSTACK_JWT_SECRET_PREVIOUS || undefined })
const nowS = (c: Context<AppEnv>) => Math.floor(c.get('now') / 1000)

function setSessionCookies(c: Context<AppEnv>, accessToken: string, refreshToken: string) {
  const base = { path: COOKIE_PATH, httpOnly: true, secure: true, sameSite: 'Strict' } as const
  setCookie(c, ACCESS_COOKIE, accessToken, { ...base, maxAge: ACCESS_TOKEN_TTL_S })
  setCookie(c, REFRESH_COOKIE, refreshToken, { ...base, maxAge: REFRESH_TOKEN_TTL_S })
}

function clearSessionCookies(c: Context<AppEnv>) {
  deleteCookie(c, ACCESS_COOKIE, { path: COOKIE_PATH, secure: true })
  deleteCookie(c, REFRESH_COOKIE, { path: COOKIE_PATH, secure: true })
}

async function emailOf(db: D1Database, userId: string): Promise<string> {
  return (await db.prepare('SELECT email FROM users WHERE id = ?1').bind(userId).first<{ email: string }>())?.email ?? ''
}

/**
 * A valid access token of a live session, or else a refresh (rotating the refresh token), or else
 * the log-in page. A session is dead when its log-in was ended (log-out, a detected theft) or the
 * account's "log everyone out" came at or after the token's issue; an isolate rereads that at most
 * every 30 s (within the 60 s the issue allows), and at once after a log-out it made itself.
 */
const requireSession = createMiddleware<DashboardEnv>(async function requireSession(c, next) {
  const now = c.get('now')
  const token = getCookie(c, ACCESS_COOKIE)
  let claims = token ? await readAccessToken(token, secrets(c.env), nowS(c)) : null
  if (claims && sessionEnded(claims, await sessionState(c.env.DB, claims.acc, claims.fam, now))) claims = null
  if (!claims) {
    const refresh = getCookie(c, REFRESH_COOKIE)
    const rotated = refresh ? await rotateRefreshToken(c.env.DB, refresh, now) : null
    if (rotated && !rotated.ok && rotated.reason === 'raced') {
      // Another tab of this browser refreshed a moment ago and holds the new cookies: keep them
      // (no clearing), and come back in a second (no script: a meta refresh; a POST goes home).
      return c.req.method === 'GET' ? c.html(pages.reloading()) : c.redirect('/dashboard', 303)
    }
    if (!rotated?.ok) {
      clearSessionCookies(c)
      return c.redirect('/dashboard/login', 303)
    }
    const access = await issueAccessToken(c.env.KEYSTACK_JWT_SECRET, rotated, nowS(c))
    setSessionCookies(c, access, rotated.refreshToken)
    claims = (await readAccessToken(access, secrets(c.env), nowS(c)))!
  }
  c.set('session', { ...claims, email: await emailOf(c.env.DB, claims.sub) })
  await next()
})

async function signIn(c: Context<AppEnv>, who: { userId: string; accountId: string }) {
  await deleteExpiredRefreshTokens(c.env.DB, who.userId, c.get('now'))
  const { refreshToken, familyId } = await startSession(c.env.DB, who, c.get('now'))
  const access = await issueAccessToken(c.env.KEYSTACK_JWT_SECRET, { ...who, familyId }, nowS(c))
  setSessionCookies(c, access, refreshToken)
}

/** A form's fields as strings: a missing field (or a file) reads as ''. */
type Form = (name: string) => string
async function form(c: Context<AppEnv>): Promise<Form> {
  const body = await c.req.parseBody()
  return (name) => {
    const value = Object.hasOwn(body, name) ? body[name] : ''
    return typeof value === 'string' ? value : ''
  }
}

const flashFrom = (c: Context<AppEnv>): pages.LayoutOptions['flash'] => {
  const error = c.req.query('error')
  if (error && Object.hasOwn(ERROR_CODES, error)) return { kind: 'error', text: ERROR_CODES[error as ErrorCode][1] }
  const done = c.req.query('done')
  return done && Object.hasOwn(DONE, done) ? { kind: 'ok', text: DONE[done] } : undefined
}
const DONE: Record<string, string> = {
  created: 'License created.', saved: 'Changes saved.', suspend: 'License suspended.', reinstate: 'License reinstated.',
  revoke: 'License revoked.', removed: 'Machine removed; the activation is free again.', revoked: 'Key revoked.',
}

function render(c: DashboardContext, title: string, current: pages.LayoutOptions['current'], body: ReturnType<typeof pages.home>, status: 200 | 400 | 404 | 422 = 200) {
  return c.html(pages.layout({ title, current, signedIn: { email: c.get('session').email }, flash: flashFrom(c) }, body), status)
}

/**
 * The license fields of a form, checked by the API's own schema (one set of rules); a refusal
 * becomes a readable message.
 */
function licenseInput(f: Form, withKey: boolean): LicenseInput {
  const expires = f('expires_at').trim()
  const expiresAt = expires ? new Date(`${expires}T00:00:00Z`) : null
  if (expiresAt && Number.isNaN(expiresAt.getTime())) throw new FormError('The expiry date is not a date.')
  let metadata: unknown = {}
  if (f('metadata').trim()) {
    try {
      metadata = JSON.parse(f('metadata'))
    } catch {
      throw new FormError('Metadata must be JSON.')
    }
  }
  const candidate = {
    ...(withKey && f('key').trim() ? { key: f('key').trim() } : {}),
    name: f('name').trim() || null,
    expires_at: expiresAt ? expiresAt.toISOString() : null,
    max_machines: f('max_machines').trim() ? Number(f('max_machines')) : null,
    entitlements: f('entitlements').split(',').map((e) => e.trim()).filter(Boolean),
    metadata,
  }
  const checked = (withKey ? CreateLicenseBody : UpdateLicenseBody).safeParse(candidate)
  if (!checked.success) {
    const issue = checked.error.issues[0]
    throw new FormError(`${FIELD_NAMES[String(issue.path[0])] ?? 'A field'}: ${issue.message}`)
  }
  return checked.data
}
const FIELD_NAMES: Record<string, string> = {
  key: 'Key', name: 'Name', expires_at: 'Expiry', max_machines: 'Machine limit', entitlements: 'Entitlements', metadata: 'Metadata',
}
class FormError extends Error {}

export const dashboardRoutes = new Hono<DashboardEnv>()

dashboardRoutes.use(
  '*',
  secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'"],
      connectSrc: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
      objectSrc: ["'none'"],
    },
  }),
  // Every state-changing request must come from our own pages: SameSite=Strict cookies, hono's
  // csrf check for forms, and for every other non-GET request the same Origin (or Sec-Fetch-Site).
  csrf(),
  createMiddleware<DashboardEnv>(async function sameOriginOnly(c, next) {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && !fromThisSite(c)) {
      throw new ApiError('api/forbidden', 'This request was refused (it did not come from this site).')
    }
    await next()
  }),
  bodyLimit({ maxSize: MAX_BODY_BYTES, onError: () => { throw new ApiError('api/body-too-large') } }),
  createMiddleware<DashboardEnv>(async function noStore(c, next) {
    await next()
    // Pages show secrets (a new key) and account data: never from a cache.
    if (!c.req.path.startsWith('/dashboard/static/')) c.header('Cache-Control', 'no-store')
  }),
)

dashboardRoutes.get('/static/app.css', (c) => c.body(pages.STYLES, 200, { 'Content-Type': 'text/css; charset=utf-8', 'Cache-Control': 'public, max-age=3600' }))
dashboardRoutes.get('/static/favicon.svg', (c) => c.body(pages.FAVICON, 200, { 'Content-Type': 'image/svg+xml', 'Cache-Control': 'public, max-age=86400' }))
dashboardRoutes.get('/static/app.js', (c) => c.body(pages.SCRIPT, 200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'public, max-age=3600' }))

dashboardRoutes.get('/signup', (c) => c.html(pages.layout({ title: 'Sign up' }, pages.authPage('signup', {}))))
dashboardRoutes.post('/signup', async (c) => {
  const f = await form(c)
  const email = f('email').trim().toLowerCase()
  const account = f('account').trim()
  const again = (text: string, status: 400 | 429 = 400) =>
    c.html(pages.layout({ title: 'Sign up', flash: { kind: 'error', text } }, pages.authPage('signup', { email, account })), status)
  if (!(await withinLoginLimits(c, email))) return again('Too many attempts. Wait a minute and try again.', 429)
  if (!account || account.length > 200) return again('Give your company or product a name (up to 200 characters).')
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || email.length > 254) return again('That email address does not look right.')
  if (f('password').length < MIN_PASSWORD_LENGTH) return again(`Choose a password of at least ${MIN_PASSWORD_LENGTH} characters.`)
  const taken = await c.env.DB.prepare('SELECT 1 FROM users WHERE email = ?1').bind(email).first()
  if (taken) return again('An account with this email exists. Log in instead.')
  const now = c.get('now')
  const userId = `usr_${ulid(now)}`
  const passwordHash = await hashPassword(f('password'))
  let created
  try {
    // The account, its key pair, its first admin key and its owner: one transaction.
    created = await createAccount(c.env, account, now, (accountId) => [
      c.env.DB.prepare('INSERT INTO users (id, account_id, email, password_hash, created_at) VALUES (?, ?, ?, ?, ?)').bind(userId, accountId, email, passwordHash, now),
    ])
  } catch (err) {
    if (err instanceof Error && /UNIQUE/i.test(err.message)) return again('An account with this email exists. Log in instead.')
    throw err
  }
  await signIn(c, { userId, accountId: created.account.id })
  return c.html(
    pages.layout(
      { title: 'Welcome', signedIn: { email } },
      pages.secretShown('Welcome to KeyStack', 'Your account is ready, with its first admin key for your backend.', created.key.row.id, created.key.secret, '/dashboard'),
    ),
  )
})

/**
 * A browser's own word that the request comes from this site: `Sec-Fetch-Site: same-origin` (a page
 * cannot set it), or an Origin naming this host (behind a local proxy the request URL's host may
 * differ from the one the browser used, so the Host header counts too).
 */
function fromThisSite(c: Context<AppEnv>): boolean {
  if (c.req.header('Sec-Fetch-Site') === 'same-origin') return true
  const origin = c.req.header('Origin')
  if (!origin) return false
  let host: string
  try {
    host = new URL(origin).host
  } catch {
    return false
  }
  return host === new URL(c.req.url).host || host === c.req.header('Host')
}

/** Log-in and sign-up attempts: 10 a minute per email and per client address. */
async function withinLoginLimits(c: Context<AppEnv>, email: string): Promise<boolean> {
  const address = c.req.header('CF-Connecting-IP') ?? 'local'
  const [byEmail, byAddress] = await Promise.all([
    c.env.LOGIN_LIMITER.limit({ key: `email:${email}` }),
    c.env.LOGIN_LIMITER.limit({ key: `ip:${address}` }),
  ])
  return byEmail.success && byAddress.success
}

dashboardRoutes.get('/login', (c) => c.html(pages.layout({ title: 'Log in' }, pages.authPage('login', {}))))
dashboardRoutes.post('/login', async (c) => {
  const f = await form(c)
  const email = f('email').trim().toLowerCase()
  if (!(await withinLoginLimits(c, email))) {
    return c.html(pages.layout({ title: 'Log in', flash: { kind: 'error', text: 'Too many attempts. Wait a minute and try again.' } }, pages.authPage('login', { email })), 429)
  }
  const user = await c.env.DB.prepare('SELECT id, account_id, password_hash FROM users WHERE email = ?1').bind(email).first<{ id: string; account_id: string; password_hash: string }>()
  // An unknown email costs the same work and gets the same answer as a wrong password.
  const ok = await verifyPassword(f('password'), user?.password_hash ?? (await decoyHash()))
  if (!user || !ok) {
    return c.html(pages.layout({ title: 'Log in', flash: { kind: 'error', text: 'Wrong email or password.' } }, pages.authPage('login', { email })), 401)
  }
  await signIn(c, { userId: user.id, accountId: user.account_id })
  return c.redirect('/dashboard', 303)
})

dashboardRoutes.use('*', requireSession)

dashboardRoutes.post('/logout', async (c) => {
  await revokeFamily(c.env.DB, c.get('session').fam, c.get('now'))
  forgetSessionState(c.get('session').acc)
  clearSessionCookies(c)
  return c.redirect('/dashboard/login', 303)
})

dashboardRoutes.post('/logout-everyone', async (c) => {
  const accountId = c.get('session').acc
  await logOutEveryone(c.env.DB, accountId, c.get('now'))
  forgetSessionState(accountId)
  clearSessionCookies(c)
  return c.redirect('/dashboard/login', 303)
})

dashboardRoutes.get('/', async (c) => render(c, 'Home', 'home', pages.home(await activityOfAccount(c.env.DB, c.get('session').acc, c.get('now')))))

dashboardRoutes.get('/licenses', async (c) => {
  const status = c.req.query('status') ?? ''
  const search = (c.req.query('q') ?? '').trim().slice(0, 128)
  const cursor = c.req.query('cursor')
  let after: string | undefined
  try {
    after = cursor ? decodeCursor(cursor, /^lic_[0-9A-Z]{26}$/) : undefined
  } catch {
    return c.redirect('/dashboard/licenses', 303)
  }
  const rows = await q.searchLicenses(c.env.DB, c.get('session').acc, {
    limit: 26,
    after,
    status: ['active', 'suspended', 'revoked'].includes(status) ? (status as q.LicenseStatus) : undefined,
    query: search || undefined,
  })
  const page = rows.slice(0, 25)
  return render(c, 'Licenses', 'licenses', pages.licenseList(page, { q: search, status }, rows.length > 25 ? encodeCursor(page[24].id) : null))
})

dashboardRoutes.get('/licenses/new', (c) => render(c, 'New license', 'licenses', pages.licenseForm('/dashboard/licenses', 'New license', {}, true)))
dashboardRoutes.post('/licenses', async (c) => {
  const f = await form(c)
  try {
    const license = await createLicenseForAccount(c.env.DB, c.get('session').acc, licenseInput(f, true), c.get('now'))
    return c.redirect(`/dashboard/licenses/${license.id}?done=created`, 303)
  } catch (err) {
    const text = err instanceof FormError ? err.message : err instanceof ApiError ? err.message : null
    if (!text) throw err
    return c.html(
      pages.layout({ title: 'New license', current: 'licenses', signedIn: { email: c.get('session').email }, flash: { kind: 'error', text } }, pages.licenseForm('/dashboard/licenses', 'New license', {}, true)),
      400,
    )
  }
})

async function licenseOr404(c: DashboardContext) {
  return q.getLicense(c.env.DB, c.get('session').acc, c.req.param('id')!)
}

dashboardRoutes.get('/licenses/:id', async (c) => {
  const license = await licenseOr404(c)
  if (!license) return notFoundPage(c, 'license')
  const machines = await q.listMachines(c.env.DB, c.get('session').acc, license.id)
  return render(c, `License ${license.key}`, 'licenses', pages.licenseDetail(license, machines))
})

for (const action of ['suspend', 'reinstate', 'revoke'] as const) {
  dashboardRoutes.post(`/licenses/:id/${action}`, async (c) => {
    const id = c.req.param('id')
    try {
      await changeLicenseStatus(c.env.DB, c.get('session').acc, id, action, c.get('now'))
      return c.redirect(`/dashboard/licenses/${id}?done=${action}`, 303)
    } catch (err) {
      return refusal(c, err, `/dashboard/licenses/${id}`)
    }
  })
}

dashboardRoutes.post('/licenses/:id/edit', async (c) => {
  const id = c.req.param('id')
  const f = await form(c)
  try {
    const { key: _key, ...input } = licenseInput(f, false)
    await updateLicenseOfAccount(c.env.DB, c.get('session').acc, id, input, c.get('now'))
    return c.redirect(`/dashboard/licenses/${id}?done=saved`, 303)
  } catch (err) {
    if (err instanceof FormError) {
      const license = await licenseOr404(c)
      if (!license) return notFoundPage(c, 'license')
      const machines = await q.listMachines(c.env.DB, c.get('session').acc, license.id)
      return c.html(pages.layout({ title: 'License', current: 'licenses', signedIn: { email: c.get('session').email }, flash: { kind: 'error', text: err.message } }, pages.licenseDetail(license, machines)), 400)
    }
    return refusal(c, err, `/dashboard/licenses/${id}`)
  }
})

dashboardRoutes.post('/machines/:id/delete', async (c) => {
  const f = await form(c)
  const machine = await q.deleteMachine(c.env.DB, c.get('session').acc, c.req.param('id'))
  if (!machine) return notFoundPage(c, 'machine')
  const back = /^lic_[0-9A-Z]{26}$/.test(f('license')) ? f('license') : machine.license_id
  return c.redirect(`/dashboard/licenses/${back}?done=removed`, 303)
})

dashboardRoutes.get('/keys', async (c) => render(c, 'Keys', 'keys', pages.keyList(await listKeys(c.env.DB, c.get('session').acc))))
dashboardRoutes.post('/keys', async (c) => {
  const f = await form(c)
  const scope = f('scope') === 'admin' ? 'admin' : 'client'
  const key = await createKeyForAccount(c.env, c.get('session').acc, scope, f('label').trim().slice(0, 200) || null, c.get('now'))
  return render(c, 'New key', 'keys', pages.secretShown(`New ${scope} key`, scope === 'client' ? 'Ship this key inside your app.' : 'Keep this key on your servers.', key.row.id, key.secret, '/dashboard/keys'))
})
dashboardRoutes.get('/keys/:id/revoke', async (c) => {
  const key = await getKey(c.env.DB, c.get('session').acc, c.req.param('id'))
  if (!key) return notFoundPage(c, 'key')
  return render(c, 'Revoke key', 'keys', pages.confirmRevokeKey(key))
})
dashboardRoutes.post('/keys/:id/revoke', async (c) => {
  try {
    await revokeKeyOfAccount(c.env, c.get('session').acc, c.req.param('id'), c.get('now'))
    return c.redirect('/dashboard/keys?done=revoked', 303)
  } catch (err) {
    return refusal(c, err, '/dashboard/keys')
  }
})

dashboardRoutes.get('/account', async (c) => {
  const accountId = c.get('session').acc
  const [account, publicKey] = await Promise.all([getAccount(c.env.DB, accountId), accountPublicKey(c.env, accountId)])
  return render(c, 'Account', 'account', pages.accountPage(account!, publicKey))
})

/** A domain refusal (a revoked license, the last admin key…) goes back to the page with its message. */
function refusal(c: DashboardContext, err: unknown, back: string) {
  if (!(err instanceof ApiError)) throw err
  if (err.status === 404) return notFoundPage(c, 'item')
  return c.redirect(`${back}?error=${encodeURIComponent(err.code)}`, 303)
}

function notFoundPage(c: DashboardContext, what: string) {
  return render(c, 'Not found', undefined, pages.notFound(what), 404)
}
