import { z } from '@hono/zod-openapi'
import { newRouter } from '../router'
import { accountOf } from '../auth/middleware'
import { rfc3339, rfc3339OrNull } from '../ids'
import { signedRoute } from '../openapi'
import { listKeys, type ApiKeyRow, type NewKey } from './queries'
import { createKeyForAccount, revokeKeyOfAccount } from './service'
import { CreateKeyBody, KeyIdParam, KeySchema, NewKeySchema } from './schemas'

export function keyView(row: ApiKeyRow) {
  return {
    id: row.id,
    scope: row.scope,
    label: row.label,
    created_at: rfc3339(row.created_at),
    last_used_at: rfc3339OrNull(row.last_used_at),
    revoked_at: rfc3339OrNull(row.revoked_at),
  }
}

export function newKeyView({ row, secret }: NewKey) {
  return { id: row.id, scope: row.scope, label: row.label, secret, created_at: rfc3339(row.created_at) }
}

export const createKey = signedRoute(['admin'], {
  method: 'post',
  path: '/v1/keys',
  summary: 'Create an API key (rotation: any number may be active at once)',
  request: { body: { required: true, content: { 'application/json': { schema: CreateKeyBody } } } },
  errors: ['api/invalid-json', 'api/validation-failed'],
  responses: { 201: { description: 'The key, with its secret shown this once', content: { 'application/json': { schema: z.object({ key: NewKeySchema }) } } } },
})

export const listKeysRoute = signedRoute(['admin'], {
  method: 'get',
  path: '/v1/keys',
  summary: "List the account's keys (never their secrets)",
  responses: { 200: { description: 'The keys, oldest first', content: { 'application/json': { schema: z.object({ data: z.array(KeySchema) }) } } } },
})

export const revokeKeyRoute = signedRoute(['admin'], {
  method: 'delete',
  path: '/v1/keys/{id}',
  summary: 'Revoke a key (the kill switch): it fails with api/key-revoked everywhere within 10 seconds',
  request: { params: KeyIdParam },
  errors: ['key/not-found', 'key/last-admin-key'],
  responses: { 200: { description: 'The revoked key', content: { 'application/json': { schema: z.object({ key: KeySchema }) } } } },
})

export const keyRoutes = newRouter()
  .openapi(createKey, async (c) => {
    const body = c.req.valid('json')
    const key = await createKeyForAccount(c.env, accountOf(c), body.scope, body.label ?? null, c.get('now'))
    return c.json({ key: newKeyView(key) }, 201)
  })
  .openapi(listKeysRoute, async (c) => {
    const rows = await listKeys(c.env.DB, accountOf(c))
    return c.json({ data: rows.map(keyView) }, 200)
  })
  .openapi(revokeKeyRoute, async (c) => {
    const revoked = await revokeKeyOfAccount(c.env, accountOf(c), c.req.valid('param').id, c.get('now'))
    return c.json({ key: keyView(revoked) }, 200)
  })
