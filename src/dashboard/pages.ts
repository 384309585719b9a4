import { html, raw } from 'hono/html'
import type { HtmlEscapedString } from 'hono/utils/html'
import type { DailyActivity } from '../activity'
import type { ApiKeyRow } from '../keys/queries'
import type { LicenseRow, MachineRow } from '../licenses/queries'

// Server-rendered pages: plain HTML and one small stylesheet, no script needed to use them (a tiny
// external script only adds copy buttons). Fast on a slow phone, and it works offline.

type Html = HtmlEscapedString | Promise<HtmlEscapedString>

export interface LayoutOptions {
  title: string
  /** Signed in: show the navigation and the log-out button. */
  signedIn?: { email: string }
  flash?: { kind: 'ok' | 'error'; text: string }
  current?: 'home' | 'licenses' | 'keys' | 'account'
}

const iso = (ms: number | null) => (ms === null ? '' : new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC')
const date = (ms: number | null) => (ms === null ? 'never' : new Date(ms).toISOString().slice(0, 10))

export function layout(opts: LayoutOptions, body: Html): Html {
  const link = (href: string, label: string, name: LayoutOptions['current']) =>
    html`<a href="${href}"${opts.current === name ? raw(' aria-current="page"') : ''}>${label}</a>`
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${opts.title} · KeyStack</title><link rel="icon" href="/dashboard/static/favicon.svg" type="image/svg+xml"><link rel="stylesheet" href="/dashboard/static/app.css">
<script src="/dashboard/static/app.js" defer></script></head>
<body>
<header><a class="brand" href="/dashboard">KeyStack</a>
${opts.signedIn
    ? html`<nav aria-label="Main">${link('/dashboard', 'Home', 'home')}${link('/dashboard/licenses', 'Licenses', 'licenses')}${link('/dashboard/keys', 'Keys', 'keys')}${link('/dashboard/account', 'Account', 'account')}</nav>
<form method="post" action="/dashboard/logout" class="logout"><span class="who">${opts.signedIn.email}</span> <button type="submit">Log out</button></form>`
    : ''}
</header>
<main>
${opts.flash ? html`<p class="flash ${opts.flash.kind}" role="${opts.flash.kind === 'error' ? 'alert' : 'status'}">${opts.flash.text}</p>` : ''}
${body}
</main></body></html>`
}

export function authPage(kind: 'login' | 'signup', values: { email?: string; account?: string }): Html {
  const signup = kind === 'signup'
  return html`<h1>${signup ? 'Create your KeyStack account' : 'Log in'}</h1>
<form method="post" action="/dashboard/${kind}" class="card">
${signup ? html`<label for="account">Company or product name</label><input id="account" name="account" required maxlength="200" value="${values.account ?? ''}" autocomplete="organization">` : ''}
<label for="email">Email</label><input id="email" name="email" type="email" required value="${values.email ?? ''}" autocomplete="email">
<label for="password">Password${signup ? ' (at least 10 characters)' : ''}</label><input id="password" name="password" type="password" required ${signup ? raw('minlength="10" autocomplete="new-password"') : raw('autocomplete="current-password"')}>
<button type="submit">${signup ? 'Create account' : 'Log in'}</button>
</form>
<p>${signup ? html`Have an account? <a href="/dashboard/login">Log in</a>` : html`New here? <a href="/dashboard/signup">Create an account</a>`}</p>`
}

export function secretShown(title: string, what: string, keyId: string, secret: string, next: string): Html {
  return html`<h1>${title}</h1>
<p>${what} This secret is shown <strong>only now</strong>: copy it to a safe place.</p>
<dl class="card"><dt>Key id</dt><dd><code id="key-id">${keyId}</code> <button type="button" class="copy" data-copy="key-id">Copy</button></dd>
<dt>Secret</dt><dd><code id="key-secret">${secret}</code> <button type="button" class="copy" data-copy="key-secret">Copy</button></dd></dl>
<p><a class="button" href="${next}">Done</a></p>`
}

/** The 30-day chart as an inline SVG (no script): validations as bars, activations as dots. */
export function home(days: DailyActivity[]): Html {
  const max = Math.max(1, ...days.map((d) => d.validations), ...days.map((d) => d.activations))
  const w = 600
  const h = 160
  const step = w / days.length
  const total = (k: 'validations' | 'activations') => days.reduce((a, d) => a + d[k], 0)
  const bars = days.map((d, i) => {
    const bh = (d.validations / max) * (h - 20)
    const ah = h - 10 - (d.activations / max) * (h - 20)
    return html`<g><title>${d.day}: ${d.validations} validations, ${d.activations} activations</title>
<rect x="${(i * step + 2).toFixed(1)}" y="${(h - 10 - bh).toFixed(1)}" width="${(step - 4).toFixed(1)}" height="${bh.toFixed(1)}" class="v"></rect>
${d.activations ? html`<circle cx="${(i * step + step / 2).toFixed(1)}" cy="${ah.toFixed(1)}" r="3" class="a"></circle>` : ''}</g>`
  })
  return html`<h1>Activity, last 30 days</h1>
<p><span class="swatch v"></span> ${total('validations')} validations · <span class="swatch a"></span> ${total('activations')} activations</p>
${total('validations') + total('activations') === 0
    ? html`<p class="empty">No activity yet. When your app validates or activates a license, it shows here.</p>`
    : ''}
<figure class="chart"><svg viewBox="0 0 ${w} ${h}" role="img" aria-label="Validations and activations per day over the last 30 days">${bars}
<line x1="0" y1="${h - 10}" x2="${w}" y2="${h - 10}" class="axis"></line></svg>
<figcaption>${days[0].day} to ${days[days.length - 1].day} (UTC)</figcaption></figure>`
}

export function licenseList(rows: LicenseRow[], query: { q: string; status: string }, nextCursor: string | null): Html {
  const qs = (cursor: string) => `?q=${encodeURIComponent(query.q)}&status=${encodeURIComponent(query.status)}&cursor=${encodeURIComponent(cursor)}`
  return html`<h1>Licenses</h1>
<p><a class="button" href="/dashboard/licenses/new">New license</a></p>
<form method="get" action="/dashboard/licenses" class="filters" role="search">
<label for="q">Search key or name</label><input id="q" name="q" value="${query.q}" type="search">
<label for="status">Status</label><select id="status" name="status">
${['', 'active', 'suspended', 'revoked'].map((s) => html`<option value="${s}"${query.status === s ? raw(' selected') : ''}>${s || 'any'}</option>`)}
</select><button type="submit">Filter</button></form>
${rows.length === 0
    ? html`<p class="empty">${query.q || query.status ? 'No license matches.' : 'No licenses yet. Create one, or let your payment webhook call POST /v1/licenses.'}</p>`
    : html`<table><thead><tr><th scope="col">Key</th><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Machines</th><th scope="col">Expires</th></tr></thead><tbody>
${rows.map((l) => html`<tr><td><a href="/dashboard/licenses/${l.id}"><code>${l.key}</code></a></td><td>${l.name ?? ''}</td><td><span class="status ${l.status}">${l.status}</span></td><td>${l.machines_count}${l.max_machines === null ? '' : ` / ${l.max_machines}`}</td><td>${l.expires_at === null ? 'never' : date(l.expires_at)}</td></tr>`)}
</tbody></table>`}
${nextCursor ? html`<p><a href="/dashboard/licenses${qs(nextCursor)}" rel="next">Next page</a></p>` : ''}`
}

export function licenseForm(action: string, title: string, l: Partial<LicenseRow> & { entitlementsText?: string; metadataText?: string }, withKey: boolean): Html {
  const expires = l.expires_at ? new Date(l.expires_at).toISOString().slice(0, 10) : ''
  return html`<form method="post" action="${action}" class="card">
<h2>${title}</h2>
${withKey ? html`<label for="key">Key (leave empty to generate one)</label><input id="key" name="key" maxlength="128">` : ''}
<label for="name">Name</label><input id="name" name="name" maxlength="200" value="${l.name ?? ''}">
<label for="expires_at">Expires on (UTC date; empty: never)</label><input id="expires_at" name="expires_at" type="date" value="${expires}">
<label for="max_machines">Machine limit (empty: unlimited)</label><input id="max_machines" name="max_machines" type="number" min="1" value="${l.max_machines ?? ''}">
<label for="entitlements">Entitlements (comma separated)</label><input id="entitlements" name="entitlements" value="${l.entitlementsText ?? ''}">
<label for="metadata">Metadata (a JSON object, at most 4 KiB)</label><textarea id="metadata" name="metadata" rows="3">${l.metadataText ?? ''}</textarea>
<button type="submit">Save</button></form>`
}

export function licenseDetail(l: LicenseRow, machines: MachineRow[]): Html {
  const action = (name: string, label: string, danger = false) =>
    html`<form method="post" action="/dashboard/licenses/${l.id}/${name}" class="inline"><button type="submit"${danger ? raw(' class="danger"') : ''}>${label}</button></form>`
  const entitlements = (JSON.parse(l.entitlements) as string[]).join(', ')
  const metadata = JSON.parse(l.metadata) as Record<string, unknown>
  return html`<h1>License <code>${l.key}</code></h1>
<dl class="card"><dt>Name</dt><dd>${l.name ?? '—'}</dd><dt>Status</dt><dd><span class="status ${l.status}">${l.status}</span></dd>
<dt>Expires</dt><dd>${l.expires_at === null ? 'never' : iso(l.expires_at)}</dd><dt>Machines</dt><dd>${l.machines_count}${l.max_machines === null ? ' (no limit)' : ` of ${l.max_machines}`}</dd>
<dt>Entitlements</dt><dd>${entitlements || '—'}</dd><dt>Created</dt><dd>${iso(l.created_at)}</dd><dt>Id</dt><dd><code>${l.id}</code></dd></dl>
<div class="actions">${l.status === 'active' ? action('suspend', 'Suspend') : ''}${l.status === 'suspended' ? action('reinstate', 'Reinstate') : ''}${l.status !== 'revoked' ? action('revoke', 'Revoke (final)', true) : ''}</div>
<h2>Machines</h2>
${machines.length === 0
    ? html`<p class="empty">No machine activated yet.</p>`
    : html`<table><thead><tr><th scope="col">Fingerprint</th><th scope="col">Name</th><th scope="col">Platform</th><th scope="col">Activated</th><th scope="col">Last heartbeat</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead><tbody>
${machines.map((m) => html`<tr><td><code>${m.fingerprint}</code></td><td>${m.name ?? ''}</td><td>${m.platform ?? ''}</td><td>${iso(m.created_at)}</td><td>${m.last_heartbeat_at === null ? 'never' : iso(m.last_heartbeat_at)}</td>
<td><form method="post" action="/dashboard/machines/${m.id}/delete" class="inline"><input type="hidden" name="license" value="${l.id}"><button type="submit" aria-label="Remove machine ${m.fingerprint}">Remove</button></form></td></tr>`)}
</tbody></table>`}
${l.status === 'revoked'
    ? ''
    : licenseForm(`/dashboard/licenses/${l.id}/edit`, 'Edit', { ...l, entitlementsText: entitlements, metadataText: Object.keys(metadata).length ? JSON.stringify(metadata) : '' }, false)}`
}

export function keyList(rows: ApiKeyRow[]): Html {
  return html`<h1>API keys</h1>
<p>Ship a <strong>client</strong> key in your app; keep <strong>admin</strong> keys on your servers. To rotate a key: create a new one, ship it, wait until the old key's "last used" stops moving, then revoke the old one.</p>
<form method="post" action="/dashboard/keys" class="card inline-form">
<label for="scope">Scope</label><select id="scope" name="scope"><option value="client">client</option><option value="admin">admin</option></select>
<label for="label">Label</label><input id="label" name="label" maxlength="200" placeholder="desktop app 2.0">
<button type="submit">Create key</button></form>
<table><thead><tr><th scope="col">Key id</th><th scope="col">Scope</th><th scope="col">Label</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Revoked</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead><tbody>
${rows.map((k) => html`<tr><td><code>${k.id}</code></td><td>${k.scope}</td><td>${k.label ?? ''}</td><td>${date(k.created_at)}</td><td>${k.last_used_at === null ? 'never' : iso(k.last_used_at)}</td><td>${k.revoked_at === null ? '' : date(k.revoked_at)}</td>
<td>${k.revoked_at === null ? html`<a href="/dashboard/keys/${k.id}/revoke">Revoke…</a>` : ''}</td></tr>`)}
</tbody></table>`
}

export function confirmRevokeKey(k: ApiKeyRow): Html {
  return html`<h1>Revoke key <code>${k.id}</code>?</h1>
<p class="card">${k.last_used_at === null
    ? 'This key has never been used.'
    : html`This key was last used <strong>${iso(k.last_used_at)}</strong>. Every app that still uses it will get <code>api/key-revoked</code> within 10 seconds.`}</p>
<form method="post" action="/dashboard/keys/${k.id}/revoke" class="inline"><button type="submit" class="danger">Revoke this key</button></form>
<a href="/dashboard/keys">Cancel</a>`
}

export function accountPage(account: { id: string; name: string }, publicKey: string): Html {
  return html`<h1>${account.name}</h1>
<h2>Public key</h2>
<p>Bake this Ed25519 public key into your app and pass it to the SDK (<code>publicKey</code>): it checks that every answer and every offline license file came from your account.</p>
<p class="card"><code id="public-key">${publicKey}</code> <button type="button" class="copy" data-copy="public-key">Copy</button></p>
<h2>Sessions</h2>
<p>Log every person out of this account's dashboard, on every device, yourself included. Sessions end at once; pages already open stop working within a minute.</p>
<form method="post" action="/dashboard/logout-everyone" class="inline"><button type="submit" class="danger">Log everyone out</button></form>
<p class="muted">Account id <code>${account.id}</code></p>`
}

export const STYLES = `*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,sans-serif;color:#17202a;background:#f6f7f9}
header{display:flex;flex-wrap:wrap;gap:.5rem 1.2rem;align-items:center;padding:.6rem 1rem;background:#17202a;color:#fff}
header a{color:#fff;text-decoration:none}header .brand{font-weight:700}nav{display:flex;gap:1rem;flex-wrap:wrap}
nav a[aria-current=page]{text-decoration:underline}.logout{margin-left:auto}.who{opacity:.8;font-size:.9rem}
main{max-width:60rem;margin:0 auto;padding:1rem}h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
.card{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:1rem;margin:1rem 0}
form.card label,.filters label{display:block;font-weight:600;margin-top:.6rem}input,select,textarea{font:inherit;padding:.45rem;border:1px solid #9aa5b1;border-radius:6px;width:100%;max-width:28rem}
button,.button{font:inherit;padding:.45rem .9rem;border-radius:6px;border:1px solid #17202a;background:#17202a;color:#fff;cursor:pointer;display:inline-block;text-decoration:none;margin-top:.6rem}
button.danger{background:#b42318;border-color:#b42318}button:focus-visible,a:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible{outline:3px solid #2e90fa;outline-offset:2px}
header button{margin:0;background:#fff;color:#17202a}.inline{display:inline-block;margin-right:.5rem}
table{width:100%;border-collapse:collapse;background:#fff}th,td{text-align:left;padding:.45rem;border-bottom:1px solid #e4e7eb;vertical-align:top}
td code{word-break:break-all}.status{padding:.1rem .45rem;border-radius:99px;font-size:.85rem}.status.active{background:#d1fadf}.status.suspended{background:#fef0c7}.status.revoked{background:#fee4e2}
.flash{padding:.6rem 1rem;border-radius:6px}.flash.ok{background:#d1fadf}.flash.error{background:#fee4e2}.empty,.muted{color:#52606d}
dl.card{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem}dt{font-weight:600}dd{margin:0;word-break:break-all}
.chart svg{width:100%;height:auto;background:#fff;border:1px solid #dde1e6;border-radius:8px}.v{fill:#2e90fa}.a{fill:#f79009}.axis{stroke:#9aa5b1}
.swatch{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;vertical-align:middle}.swatch.v{background:#2e90fa}.swatch.a{background:#f79009}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
@media (max-width:40rem){table{font-size:.9rem}th,td{padding:.3rem}}`

/** Copy buttons; the pages work without it. */
export const SCRIPT = `document.addEventListener('click', function (event) {
  var button = event.target.closest && event.target.closest('button.copy');
  if (!button) return;
  var source = document.getElementById(button.getAttribute('data-copy'));
  if (!source || !navigator.clipboard) return;
  navigator.clipboard.writeText(source.textContent.trim()).then(function () {
    button.textContent = 'Copied';
    setTimeout(function () { button.textContent = 'Copy'; }, 1500);
  });
});`

export function notFound(what: string): Html {
  return html`<h1>No such ${what}</h1><p>It does not exist in this account. <a href="/dashboard">Back to the dashboard</a></p>`
}

export const FAVICON = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#17202a"/><path d="M5 4v8M5 8l5-4M5 8l5 4" stroke="#fff" stroke-width="2" fill="none"/></svg>'

/** Shown when another tab refreshed the session a moment ago: reload with its cookies. */
export function reloading(): Html {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="1"><title>Reloading · KeyStack</title></head><body><p>Reloading…</p></body></html>`
}
