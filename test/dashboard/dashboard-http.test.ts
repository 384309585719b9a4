import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { send } from '../helpers'

const ORIGIN = 'http://keystack.test'

/** A tiny cookie jar over the Worker, sending forms as a browser does (with Origin). */
class Browser {
  cookies = new Map<string, string>()
  /** Each browser its own client address, as log-in attempts are limited per address. */
  address = `198.51.100.${Math.floor(Math.random() * 250)}`
  async go(path: string, init: { method?: string; form?: Record<string, string>; origin?: string | null } = {}) {
    const headers = new Headers({ 'CF-Connecting-IP': this.address })
    if (this.cookies.size) headers.set('Cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '))
    let body: string | undefined
    if (init.form) {
      headers.set('Content-Type', 'application/x-www-form-urlencoded')
      body = new URLSearchParams(init.form).toString()
    }
    if (init.origin !== null && (init.method ?? 'GET') !== 'GET') headers.set('Origin', init.origin ?? ORIGIN)
    const res = await send(new Request(ORIGIN + path, { method: init.method ?? 'GET', headers, body, redirect: 'manual' }))
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const [name, value] = pair.split('=')
      if (/Max-Age=0/i.test(line) || value === '') this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
    return res
  }
  post(path: string, form: Record<string, string> = {}, origin?: string | null) {
    return this.go(path, { method: 'POST', form, origin })
  }
}

let counter = 0
async function signUp(browser = new Browser()) {
  const email = `owner${++counter}-${Date.now()}@example.com`
  const res = await browser.post('/dashboard/signup', { account: `Dash ${counter}`, email, password: 'correct horse battery' })
  expect(res.status).toBe(200)
  return { browser, email, page: await res.text() }
}

describe('dashboard sign-up and log-in', () => {
  it('signs up: creates the account and its owner, shows the first admin key once, and sets session cookies', async () => {
    const { browser, page } = await signUp()
    expect(page).toMatch(/kss_[A-Za-z0-9_-]{43}/)
    const raw = await send(new Request(ORIGIN + '/dashboard/login'))
    expect(raw.headers.get('Content-Security-Policy')).toMatch(/script-src 'self'/)
    expect([...browser.cookies.keys()].sort()).toEqual(['ks_access', 'ks_refresh'])
    const home = await browser.go('/dashboard')
    expect(home.status).toBe(200)
    expect(await home.text()).toContain('Activity, last 30 days')
  })

  it('sets HttpOnly, Secure, SameSite=Strict cookies and stores only a hash of the refresh token', async () => {
    const browser = new Browser()
    const email = `cookies-${Date.now()}@example.com`
    const res = await browser.post('/dashboard/signup', { account: 'Cookie Co', email, password: 'correct horse battery' })
    const lines = res.headers.getSetCookie()
    for (const name of ['ks_access', 'ks_refresh']) {
      const line = lines.find((l) => l.startsWith(`${name}=`))!
      expect(line).toMatch(/HttpOnly/)
      expect(line).toMatch(/Secure/)
      expect(line).toMatch(/SameSite=Strict/)
    }
    const refresh = browser.cookies.get('ks_refresh')!
    const dump = JSON.stringify((await env.DB.prepare('SELECT * FROM refresh_tokens').all()).results)
    expect(dump).not.toContain(refresh)
  })

  it('answers an unknown email and a wrong password alike', async () => {
    const { email } = await signUp()
    const wrong = await new Browser().post('/dashboard/login', { email, password: 'not the password' })
    const unknown = await new Browser().post('/dashboard/login', { email: `nobody-${Date.now()}@example.com`, password: 'not the password' })
    expect(wrong.status).toBe(401)
    expect(unknown.status).toBe(401)
    const text = (r: string) => r.replace(/value="[^"]*"/g, '')
    expect(text(await wrong.text())).toBe(text(await unknown.text()))
    const ok = await new Browser().post('/dashboard/login', { email, password: 'correct horse battery' })
    expect(ok.status).toBe(303)
  })

  it('refuses a short password and a taken email', async () => {
    const { email } = await signUp()
    expect((await new Browser().post('/dashboard/signup', { account: 'X', email: 'x@example.com', password: 'short' })).status).toBe(400)
    expect((await new Browser().post('/dashboard/signup', { account: 'X', email, password: 'correct horse battery' })).status).toBe(400)
  })

  it('rate limits log-in attempts per client address, whatever the email', async () => {
    const browser = new Browser()
    const statuses: number[] = []
    for (let i = 0; i < 12; i++) statuses.push((await browser.post('/dashboard/login', { email: `spray${i}-${Date.now()}@example.com`, password: 'guess' })).status)
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true)
    expect(statuses).toContain(429)
  })

  it('rate limits log-in attempts per email', async () => {
    const email = `limited-${Date.now()}@example.com`
    const statuses: number[] = []
    for (let i = 0; i < 12; i++) statuses.push((await new Browser().post('/dashboard/login', { email, password: 'guess number ' + i })).status)
    expect(statuses).toContain(429)
  })
})

describe('dashboard web conventions', () => {
  it('refuses a bodyless or JSON POST without our Origin, not only forms', async () => {
    const { browser } = await signUp()
    const json = await send(
      new Request(ORIGIN + '/dashboard/logout-everyone', {
        method: 'POST',
        headers: { Cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'Content-Type': 'application/json' },
        body: '{}',
      }),
    )
    expect(json.status).toBe(403)
    expect((await browser.go('/dashboard/licenses')).status).toBe(200) // nothing happened
  })

  it('answers a form with missing fields or a bad date with a message, not a 500; pages are not cached', async () => {
    const { browser } = await signUp()
    expect((await browser.post('/dashboard/signup', {})).status).toBe(400)
    const bad = await browser.post('/dashboard/licenses', { expires_at: '2027-13-45', name: 'x' })
    expect(bad.status).toBe(400)
    expect(await bad.text()).toContain('The expiry date is not a date.')
    const tooMany = await browser.post('/dashboard/licenses', { max_machines: '2000000' })
    expect(tooMany.status).toBe(400)
    expect(await tooMany.text()).toContain('Machine limit')
    const keyPage = await browser.post('/dashboard/keys', {})
    expect(keyPage.status).toBe(200)
    expect(keyPage.headers.get('Cache-Control')).toBe('no-store')
  })

  it('refuses a state-changing request from another origin (CSRF), and without a session sends to log-in', async () => {
    const { browser } = await signUp()
    const forged = await browser.post('/dashboard/logout-everyone', {}, 'https://evil.example')
    expect(forged.status).toBe(403)
    expect((await browser.go('/dashboard/licenses')).status).toBe(200) // still signed in: nothing happened
    const anonymous = await new Browser().go('/dashboard/licenses')
    expect(anonymous.status).toBe(303)
    expect(anonymous.headers.get('Location')).toBe('/dashboard/login')
  })
})

describe('dashboard pages use the domain', () => {
  it('creates, finds, suspends and revokes a license; creates and revokes a key', async () => {
    const { browser } = await signUp()
    const created = await browser.post('/dashboard/licenses', { key: '', name: 'Jane Doe', expires_at: '', max_machines: '2', entitlements: 'pro, beta', metadata: '{"order":"A-1"}' })
    expect(created.status).toBe(303)
    const detailPath = created.headers.get('Location')!.split('?')[0]
    const detail = await (await browser.go(detailPath)).text()
    expect(detail).toContain('Jane Doe')
    expect(detail).toContain('pro, beta')
    expect(await (await browser.go('/dashboard/licenses?q=jane')).text()).toContain('Jane Doe')
    expect(await (await browser.go('/dashboard/licenses?q=nobody')).text()).toContain('No license matches.')
    expect((await browser.post(`${detailPath}/suspend`)).status).toBe(303)
    expect(await (await browser.go('/dashboard/licenses?status=suspended')).text()).toContain('Jane Doe')
    expect((await browser.post(`${detailPath}/revoke`)).status).toBe(303)
    const afterRevoke = await browser.post(`${detailPath}/suspend`)
    expect(afterRevoke.headers.get('Location')).toContain('error=license%2Frevoked')

    const keyPage = await (await browser.post('/dashboard/keys', { scope: 'client', label: 'app 1.0' })).text()
    const keyId = keyPage.match(/key_[0-9A-Z]{26}/)![0]
    expect(keyPage).toMatch(/kss_[A-Za-z0-9_-]{43}/)
    expect(await (await browser.go(`/dashboard/keys/${keyId}/revoke`)).text()).toContain('never been used')
    expect((await browser.post(`/dashboard/keys/${keyId}/revoke`)).status).toBe(303)
    expect(await (await browser.go('/dashboard/keys')).text()).not.toContain(`/dashboard/keys/${keyId}/revoke`)
  })

  it("treats another account's license, machine and key as not found, and changes nothing", async () => {
    const a = await signUp()
    const created = await a.browser.post('/dashboard/licenses', { key: '', name: 'Private', expires_at: '', max_machines: '', entitlements: '', metadata: '' })
    const path = created.headers.get('Location')!.split('?')[0]
    const licenseId = path.split('/').pop()!
    const license = await env.DB.prepare('SELECT key, account_id FROM licenses WHERE id = ?').bind(licenseId).first<{ key: string; account_id: string }>()
    const machineId = `mch_${licenseId.slice(4)}`
    await env.DB.prepare("INSERT INTO machines (id, account_id, license_id, fingerprint, created_at) VALUES (?, ?, ?, 'fp', 0)").bind(machineId, license!.account_id, licenseId).run()
    const keyId = (await (await a.browser.post('/dashboard/keys', { scope: 'client', label: 'x' })).text()).match(/key_[0-9A-Z]{26}/)![0]

    const b = await signUp()
    expect((await b.browser.go(path)).status).toBe(404)
    expect((await b.browser.post(`${path}/revoke`)).status).toBe(404)
    expect((await b.browser.post(`${path}/edit`, { name: 'stolen' })).status).toBe(404)
    expect((await b.browser.post(`/dashboard/machines/${machineId}/delete`, { license: licenseId })).status).toBe(404)
    expect((await b.browser.go(`/dashboard/keys/${keyId}/revoke`)).status).toBe(404)
    expect((await b.browser.post(`/dashboard/keys/${keyId}/revoke`)).status).toBe(404)
    const after = await env.DB.prepare('SELECT name, status, (SELECT COUNT(*) FROM machines WHERE license_id = licenses.id) AS n FROM licenses WHERE id = ?').bind(licenseId).first()
    expect(after).toEqual({ name: 'Private', status: 'active', n: 1 })
    expect((await env.DB.prepare('SELECT revoked_at FROM api_keys WHERE id = ?').bind(keyId).first())!.revoked_at).toBeNull()
  })

  it('logs out one session: its access token stops working at once in this isolate', async () => {
    const { browser, email } = await signUp()
    const other = new Browser()
    await other.post('/dashboard/login', { email, password: 'correct horse battery' })
    const stolenAccess = browser.cookies.get('ks_access')!
    expect((await browser.post('/dashboard/logout')).status).toBe(303)
    const thief = new Browser()
    thief.cookies.set('ks_access', stolenAccess)
    const res = await thief.go('/dashboard')
    expect(res.status).toBe(303)
    expect(res.headers.get('Location')).toBe('/dashboard/login')
    expect((await other.go('/dashboard')).status).toBe(200) // the other log-in is untouched
  })
})

describe('log everyone out', () => {
  it('ends every session of the account: another browser is sent back to log-in', async () => {
    const { browser, email } = await signUp()
    const other = new Browser()
    expect((await other.post('/dashboard/login', { email, password: 'correct horse battery' })).status).toBe(303)
    expect((await other.go('/dashboard')).status).toBe(200)
    expect((await browser.post('/dashboard/logout-everyone')).status).toBe(303)
    // Same isolate: the account's log-out time is seen at once (other isolates within 30 s).
    const after = await other.go('/dashboard')
    expect(after.status).toBe(303)
    expect(after.headers.get('Location')).toBe('/dashboard/login')
  })
})
