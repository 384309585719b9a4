import { z } from '@hono/zod-openapi'
import { newRouter } from '../router'
import type { AppEnv } from '../context'
import { rfc3339 } from '../ids'
import { newKeyView } from '../keys/routes'
import { NewKeySchema } from '../keys/schemas'
import { signedRoute } from '../openapi'
import { accountOf } from '../auth/middleware'
import { ApiError } from '../errors'
import { createAccount, getAccount } from './queries'
import { accountPublicKey } from './signing-key'

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

export const AccountWithKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    created_at: z.string(),
    public_key: z.string().openapi({ description: "The account's Ed25519 public key: raw 32 bytes, base64url (the x of its JWK). Bake it into your app." }),
  })
  .openapi('AccountWithPublicKey')

export const getAccountRoute = signedRoute(['admin'], {
  method: 'get',
  path: '/v1/account',
  summary: "The caller's account, with the public key that verifies its answers and license files",
  responses: { 200: { description: 'The account', content: { 'application/json': { schema: z.object({ account: AccountWithKeySchema }) } } } },
})

export const accountRoutes = newRouter()
  .openapi(createAccountRoute, async (c) => {
    const { name } = c.req.valid('json')
    const { account, key } = await createAccount(c.env, name, c.get('now'))
    return c.json(
      { account: { id: account.id, name: account.name, created_at: rfc3339(account.created_at) }, key: newKeyView(key) },
      201,
    )
  })
  .openapi(getAccountRoute, async (c) => {
    const accountId = accountOf(c)
    const [account, publicKey] = await Promise.all([getAccount(c.env.DB, accountId), accountPublicKey(c.env, accountId)])
    if (!account) throw new ApiError('api/internal')
    return c.json({ account: { id: account.id, name: account.name, created_at: rfc3339(account.created_at), public_key: publicKey } }, 200)
  })
