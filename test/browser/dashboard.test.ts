import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { signV2, type Creds } from '../e2e/server'
import { startServer } from './server'

const root = path.resolve(import.meta.dirname, '../..')
const shots = path.join(root, 'test-artifacts/screenshots')
mkdirSync(shots, { recursive: true })

let server: Awaited<ReturnType<typeof startServer>>
let browser: Browser
const consoleErrors: string[] = []

beforeAll(async () => {
  server = await startServer()
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
})
afterAll(async () => {
  await browser?.close()
  await server?.dispose()
})
afterEach(() => {
  // Any console error (a CSP violation, a failed resource, a script error) fails the flow.
  expect(consoleErrors).toEqual([])
  consoleErrors.length = 0
})

async function newPage(context?: BrowserContext): Promise<Page> {
  const page = await (context ?? (await browser.newContext())).newPage()
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text())
  })
  page.on('pageerror', (err) => consoleErrors.push(err.message))
  return page
}

let counter = 0
async function signUp(page: Page) {
  const email = `owner${++counter}-${Date.now()}@example.com`
  await page.goto(`${server.url}/dashboard/signup`)
  await page.getByLabel('Company or product name').fill(`Browser Co ${counter}`)
  await page.getByLabel('Email').fill(email)
  await page.getByLabel(/^Password/).fill('correct horse battery')
  await page.getByRole('button', { name: 'Create account' }).click()
  await page.waitForURL(/\/dashboard\/signup$/)
  const keyId = (await page.locator('#key-id').textContent())!.trim()
  const secret = (await page.locator('#key-secret').textContent())!.trim()
  return { email, admin: { keyId, secret } }
}

/** Presses Tab until the element with this id has the focus (at most 10 times). */
async function tabTo(page: Page, id: string) {
  for (let i = 0; i < 10; i++) {
    await page.keyboard.press('Tab')
    if ((await page.evaluate(() => document.activeElement?.id)) === id) return
  }
  throw new Error(`#${id} cannot be reached with Tab`)
}

/** A v2-signed API call from Node, as a vendor's app makes it. */
async function api(creds: Creds, method: string, p: string, body = '') {
  const res = await fetch(signV2(creds, method, server.url + p, body))
  return { status: res.status, json: (await res.json()) as any }
}

describe('the vendor dashboard in Chromium', () => {
  it('signs up, showing the first admin key once; the home page has the activity chart', async () => {
    const page = await newPage()
    const { admin } = await signUp(page)
    expect(admin.secret).toMatch(/^kss_/)
    await page.screenshot({ path: path.join(shots, 'signup.png'), fullPage: true })
    await page.getByRole('link', { name: 'Done' }).click()
    await expect(page.getByRole('heading', { name: 'Activity, last 30 days' }).isVisible()).resolves.toBe(true)
    await page.screenshot({ path: path.join(shots, 'home.png'), fullPage: true })
  })

  it('creates a license, and a machine activated through the signed API appears on it', async () => {
    const page = await newPage()
    const { admin } = await signUp(page)
    await page.goto(`${server.url}/dashboard/licenses/new`)
    await page.getByLabel('Name').fill('Jane Doe')
    await page.getByLabel(/Machine limit/).fill('2')
    await page.getByLabel(/Entitlements/).fill('pro')
    await page.getByRole('button', { name: 'Save' }).click()
    await expect(page.getByText('License created.').isVisible()).resolves.toBe(true)
    const key = (await page.locator('h1 code').textContent())!.trim()
    await expect(page.getByText('No machine activated yet.').isVisible()).resolves.toBe(true)

    const activated = await api(admin, 'POST', '/v1/licenses/activate', JSON.stringify({ key, fingerprint: 'janes-laptop', platform: 'macOS' }))
    expect(activated.status).toBe(201)
    await page.reload()
    await expect(page.getByRole('cell', { name: 'janes-laptop', exact: true }).isVisible()).resolves.toBe(true)
    await page.screenshot({ path: path.join(shots, 'license.png'), fullPage: true })

    await page.goto(`${server.url}/dashboard/licenses`)
    await page.getByLabel('Search key or name').fill('jane')
    await page.getByRole('button', { name: 'Filter' }).click()
    await expect(page.getByRole('link', { name: key }).isVisible()).resolves.toBe(true)
    await page.screenshot({ path: path.join(shots, 'licenses.png'), fullPage: true })

    // The app validates a few times: the home chart counts it (without a D1 write per validate).
    for (let i = 0; i < 3; i++) expect((await api(admin, 'POST', '/v1/licenses/validate', JSON.stringify({ key }))).status).toBe(200)
    await page.goto(`${server.url}/dashboard`)
    await expect(page.getByText(/3 validations · .* 1 activations/).isVisible()).resolves.toBe(true)
    await page.screenshot({ path: path.join(shots, 'home-activity.png'), fullPage: true })
  })

  it('creates a key and revokes it after a confirmation that says when it was last used', async () => {
    const page = await newPage()
    await signUp(page)
    await page.goto(`${server.url}/dashboard/keys`)
    await page.getByLabel('Label').fill('desktop app 1.0')
    await page.getByRole('button', { name: 'Create key' }).click()
    const keyId = (await page.locator('#key-id').textContent())!.trim()
    const secret = (await page.locator('#key-secret').textContent())!.trim()
    expect((await api({ keyId, secret }, 'POST', '/v1/licenses/validate', JSON.stringify({ key: 'ANY' }))).status).toBe(200)
    await page.getByRole('link', { name: 'Done' }).click()
    await page.locator(`a[href="/dashboard/keys/${keyId}/revoke"]`).click()
    await expect(page.getByText('This key was last used').isVisible()).resolves.toBe(true)
    await page.screenshot({ path: path.join(shots, 'revoke-key.png'), fullPage: true })
    await page.getByRole('button', { name: 'Revoke this key' }).click()
    await expect(page.getByText('Key revoked.').isVisible()).resolves.toBe(true)
    const refused = await api({ keyId, secret }, 'POST', '/v1/licenses/validate', JSON.stringify({ key: 'ANY' }))
    expect(refused).toMatchObject({ status: 401, json: { error: { code: 'api/key-revoked' } } })
    await page.screenshot({ path: path.join(shots, 'keys.png'), fullPage: true })
  })

  it('logs everyone out from one browser; a second browser is sent back to log-in', async () => {
    const first = await newPage()
    const { email } = await signUp(first)
    // The second browser logs in by keyboard alone: Tab to the labelled fields, type, Enter.
    const second = await newPage()
    await second.goto(`${server.url}/dashboard/login`)
    await tabTo(second, 'email')
    await second.keyboard.type(email)
    await second.keyboard.press('Tab')
    expect(await second.evaluate(() => document.activeElement?.id)).toBe('password')
    await second.keyboard.type('correct horse battery')
    await second.keyboard.press('Enter')
    await second.waitForURL(/\/dashboard$/)

    await first.goto(`${server.url}/dashboard/account`)
    await expect(first.locator('#public-key').textContent()).resolves.toMatch(/^[A-Za-z0-9_-]{43}$/)
    await first.screenshot({ path: path.join(shots, 'account.png'), fullPage: true })
    await first.getByRole('button', { name: 'Log everyone out' }).click()
    await first.waitForURL(/\/dashboard\/login$/)

    await second.goto(`${server.url}/dashboard/licenses`)
    await second.waitForURL(/\/dashboard\/login$/)
    await expect(second.getByRole('heading', { name: 'Log in' }).isVisible()).resolves.toBe(true)
  })

  it('revokes the whole session when a stolen refresh token is used after rotation', async () => {
    const victimContext = await browser.newContext()
    const victim = await newPage(victimContext)
    await signUp(victim)
    const stolen = (await victimContext.cookies()).find((c) => c.name === 'ks_refresh')!

    // The victim's access token expires (dropped here): the next page rotates the refresh token.
    await victimContext.clearCookies({ name: 'ks_access' })
    await victim.goto(`${server.url}/dashboard/licenses`)
    await expect(victim.getByRole('heading', { name: 'Licenses' }).isVisible()).resolves.toBe(true)
    expect((await victimContext.cookies()).find((c) => c.name === 'ks_refresh')!.value).not.toBe(stolen.value)

    // Past the grace for two tabs racing, the thief uses the stolen (already rotated) token.
    await new Promise((r) => setTimeout(r, 2500))
    const thiefContext = await browser.newContext()
    await thiefContext.addCookies([stolen])
    const thief = await newPage(thiefContext)
    await thief.goto(`${server.url}/dashboard/licenses`)
    await thief.waitForURL(/\/dashboard\/login$/)

    // The reuse revoked the family: the victim's current refresh token is dead too.
    await victimContext.clearCookies({ name: 'ks_access' })
    await victim.goto(`${server.url}/dashboard/licenses`)
    await victim.waitForURL(/\/dashboard\/login$/)
  })
})
