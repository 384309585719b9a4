import { z } from '@hono/zod-openapi'
import { newRouter } from '../router'
import type { AppEnv } from '../context'
import { rfc3339 } from '../ids'
import { newKeyView } from '../keys/routes'
import { NewKeySchema } from '../keys/schemas'
import { signedRoute } from '../openapi'
import { createAccount } from './queries'

export const AccountSchema = z.object({ id: z.string(), name: z.string(), created_at: z.string() }).openapi('Account')

export const CreateAccountBody = z
  .strictObject({ name: z.string().trim().min(1).max(200) })
  .openapi('CreateAccountRequest')

export const createAccountRoute = signedRoute(['operator'], {
  method: 'post',
  path: '/v1/accounts',
  summary: 'Create an account (a vendor) and its first admin key',
  request: { body: { required: true, content: { 'application/json': { schema: CreateAccountBody } } } },
  errors: ['api/invalid-json', 'api/validation-failed'],
  responses: {
    201: {
      description: 'The account and its first admin key, with the secret shown this once',
      content: { 'application/json': { schema: z.object({ account: AccountSchema, key: NewKeySchema }) } },
    },
  },
})

export const accountRoutes = newRouter().openapi(createAccountRoute, async (c) => {
  const { name } = c.req.valid('json')
  const { account, key } = await createAccount(c.env, name, c.get('now'))
  return c.json(
    { account: { id: account.id, name: account.name, created_at: rfc3339(account.created_at) }, key: newKeyView(key) },
    201,
  )
})
