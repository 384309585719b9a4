import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app'
import { CREDENTIAL_CACHE_TTL_MS } from '../../src/auth/credentials'
import { openSecret } from '../../src/auth/secret-box'
import { api, errorCode, newAccount, newKey, signedRequest, type Creds, type TestAccount } from '../helpers'

interface KeyView { id: string; scope: string; label: string | null; created_at: string; last_used_at: string | null; revoked_at: string | null }

async function listKeys(admin: Creds): Promise<KeyView[]> {
  const res = await api(admin, 'GET', '/v1/keys')
  expect(res.status).toBe(200)
  return ((await res.json()) as { data: KeyView[] }).data
}

async function atTime(ms: number, creds: Creds, method: string, path: string) {
  const ctx = createExecutionContext()
  const req = await signedRequest(creds, method, path, undefined, { ts: Math.floor(ms / 1000) })
  const res = await createApp({ clock: () => ms }).fetch(req, env, ctx)
  await waitOnExecutionContext(ctx)
  return res
}

let acme: TestAccount
beforeAll(async () => {
  acme = await newAccount('Keys Co')
})

describe('POST /v1/keys', () => {
  it('creates a key whose secret is shown once and works at once, next to the old ones', async () => {
    const res = await api(acme.admin, 'POST', '/v1/keys', { scope: 'client', label: 'desktop app 2.0' })
    expect(res.status).toBe(201)
    const { key } = (await res.json()) as { key: KeyView & { secret: string } }
    expect(key).toMatchObject({ scope: 'client', label: 'desktop app 2.0' })
    expect(key.id).toMatch(/^key_[0-9A-Z]{26}$/)
    expect(key.secret).toMatch(/^kss_[A-Za-z0-9_-]{43}$/)
    expect(new Date(key.created_at).toISOString()).toBe(key.created_at)
    expect(Object.keys(key).sort()).toEqual(['created_at', 'id', 'label', 'scope', 'secret'])

    const admin2 = await newKey(acme.admin, 'admin')
    expect((await api(admin2, 'GET', '/v1/keys')).status).toBe(200)
    expect((await api(acme.admin, 'GET', '/v1/keys')).status).toBe(200)
  })

  it.each([
    [{ scope: 'operator' }, 'scope'],
    [{ scope: 'client', label: 5 }, 'label'],
    [{}, 'scope'],
    [{ scope: 'client', lable: 'typo' }, ''],
  ])('refuses %j with api/validation-failed', async (body, path) => {
    const before = (await listKeys(acme.admin)).length
    const res = await api(acme.admin, 'POST', '/v1/keys', body)
    expect(res.status).toBe(400)
    const { error } = (await res.json()) as { error: { code: string; details: { path: string; message: string }[] } }
    expect(error.code).toBe('api/validation-failed')
    expect(error.details.map((d) => d.path)).toContain(path)
    expect((await listKeys(acme.admin)).length).toBe(before)
  })
})

describe('GET /v1/keys', () => {
  it('lists the keys oldest first, never with a secret', async () => {
    const keys = await listKeys(acme.admin)
    expect(keys[0].id).toBe(acme.admin.keyId)
    for (const k of keys) {
      expect(Object.keys(k).sort()).toEqual(['created_at', 'id', 'label', 'last_used_at', 'revoked_at', 'scope'])
    }
    const sorted = [...keys].sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id))
    expect(keys.map((k) => k.id)).toEqual(sorted.map((k) => k.id))
  })

  it("shows only the caller's account", async () => {
    const other = await newAccount('Other Co')
    const theirs = await listKeys(other.admin)
    expect(theirs.map((k) => k.id)).toEqual([other.admin.keyId])
  })
})

describe('DELETE /v1/keys/{id}: the kill switch', () => {
  it('revokes a key: it answers api/key-revoked from then on; revoking again changes nothing', async () => {
    const client = await newKey(acme.admin, 'client')
    await api(client, 'GET', '/v1/keys') // warms this isolate's cache with the key
    const res = await api(acme.admin, 'DELETE', `/v1/keys/${client.keyId}`)
    expect(res.status).toBe(200)
    const { key } = (await res.json()) as { key: KeyView }
    expect(key.id).toBe(client.keyId)
    expect(key.revoked_at).not.toBeNull()

    const after = await api(client, 'GET', '/v1/keys')
    expect(after.status).toBe(401)
    expect(await errorCode(after)).toBe('api/key-revoked')

    const again = await api(acme.admin, 'DELETE', `/v1/keys/${client.keyId}`)
    expect(again.status).toBe(200)
    expect(((await again.json()) as { key: KeyView }).key.revoked_at).toBe(key.revoked_at)
  })

  it('reaches other isolates within the cache lifetime, which is under 10 seconds', async () => {
    expect(CREDENTIAL_CACHE_TTL_MS).toBeLessThanOrEqual(10_000)
    const client = await newKey(acme.admin, 'client')
    const t0 = 2_000_000_000_000
    expect((await atTime(t0, client, 'POST', '/v1/nothing')).status).toBe(404) // signed, key now cached
    // Another isolate revokes the key: the row changes, this isolate's cache does not hear of it.
    await env.DB.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ?').bind(t0, client.keyId).run()
    const later = await atTime(t0 + CREDENTIAL_CACHE_TTL_MS, client, 'POST', '/v1/nothing')
    expect(later.status).toBe(401)
    expect(await errorCode(later)).toBe('api/key-revoked')
  })

  it("refuses to revoke the account's last active admin key, then allows it once there is another", async () => {
    const solo = await newAccount('Solo Co')
    const client = await newKey(solo.admin, 'client')
    const res = await api(solo.admin, 'DELETE', `/v1/keys/${solo.admin.keyId}`)
    expect(res.status).toBe(409)
    expect(await errorCode(res)).toBe('key/last-admin-key')
    expect((await api(client, 'GET', '/v1/keys', undefined)).status).toBe(403) // the client key still cannot manage keys

    const second = await newKey(solo.admin, 'admin')
    expect((await api(second, 'DELETE', `/v1/keys/${solo.admin.keyId}`)).status).toBe(200)
    expect(await errorCode(await api(second, 'DELETE', `/v1/keys/${second.keyId}`))).toBe('key/last-admin-key')
  })

  it('keeps one admin key when the last two are revoked at the same time', async () => {
    const duo = await newAccount('Duo Co')
    const second = await newKey(duo.admin, 'admin')
    const [a, b] = await Promise.all([
      api(duo.admin, 'DELETE', `/v1/keys/${second.keyId}`),
      api(second, 'DELETE', `/v1/keys/${duo.admin.keyId}`),
    ])
    expect([a.status, b.status].sort()).toEqual([200, 409])
    const active = await env.DB.prepare("SELECT COUNT(*) AS n FROM api_keys WHERE account_id = ? AND scope = 'admin' AND revoked_at IS NULL")
      .bind(duo.accountId)
      .first<{ n: number }>()
    expect(active?.n).toBe(1)
  })

  it('answers 404 key/not-found for an unknown key and for a key of another account, which keeps working', async () => {
    const other = await newAccount('Foreign Co')
    const theirs = await newKey(other.admin, 'client')
    for (const id of ['key_01JH8Z5Q1V0M6T4W9R3C2N7B5X', theirs.keyId]) {
      const res = await api(acme.admin, 'DELETE', `/v1/keys/${id}`)
      expect(res.status).toBe(404)
      expect(await errorCode(res)).toBe('key/not-found')
    }
    const row = await env.DB.prepare('SELECT revoked_at FROM api_keys WHERE id = ?').bind(theirs.keyId).first()
    expect(row?.revoked_at).toBeNull()
  })
})

describe('last_used_at', () => {
  it('is recorded, coarsely: at most one write a minute per key', async () => {
    const client = await newKey(acme.admin, 'client', 'usage')
    const usedAt = async () => (await listKeys(acme.admin)).find((k) => k.id === client.keyId)!.last_used_at
    expect(await usedAt()).toBeNull()
    const t0 = 2_100_000_000_000
    await atTime(t0, client, 'POST', '/v1/licenses/validate')
    expect(await usedAt()).toBe(new Date(t0).toISOString())
    await atTime(t0 + 30_000, client, 'POST', '/v1/licenses/validate')
    expect(await usedAt()).toBe(new Date(t0).toISOString())
    await atTime(t0 + 61_000, client, 'POST', '/v1/licenses/validate')
    expect(await usedAt()).toBe(new Date(t0 + 61_000).toISOString())
  })
})

describe('secrets at rest', () => {
  it('a copy of D1 holds no usable secret: only a ciphertext bound to the key id and the master key', async () => {
    const res = await api(acme.admin, 'POST', '/v1/keys', { scope: 'client' })
    const { key } = (await res.json()) as { key: { id: string; secret: string } }
    const row = await env.DB.prepare('SELECT * FROM api_keys WHERE id = ?').bind(key.id).first<Record<string, unknown>>()
    const dump = JSON.stringify(row)
    expect(dump).not.toContain(key.secret)
    expect(dump).not.toContain(key.secret.slice(4, 20))
    const sealed = row!.secret_sealed as string
    expect(await openSecret(env.KEYSTACK_MASTER_KEY, key.id, sealed)).toBe(key.secret)
    await expect(openSecret(env.KEYSTACK_MASTER_KEY, acme.admin.keyId, sealed)).rejects.toThrow()
    await expect(openSecret('b3RoZXItbWFzdGVyLWtleS0wMDAwMDAwMDAwMDAwMDAwMDAwMDA', key.id, sealed)).rejects.toThrow()
  })
})
