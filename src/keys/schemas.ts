import { z } from '@hono/zod-openapi'

export const KeySchema = z
  .object({
    id: z.string().openapi({ example: 'key_01JH8Z5Q1V0M6T4W9R3C2N7B5X' }),
    scope: z.enum(['admin', 'client']),
    label: z.string().nullable(),
    created_at: z.string(),
    last_used_at: z.string().nullable().openapi({ description: 'Coarse: updated at most about once a minute.' }),
    revoked_at: z.string().nullable(),
  })
  .openapi('Key')

export const NewKeySchema = z
  .object({
    id: z.string(),
    scope: z.enum(['admin', 'client']),
    label: z.string().nullable(),
    secret: z.string().openapi({ description: 'Shown once, now. Store it; it cannot be read again.' }),
    created_at: z.string(),
  })
  .openapi('NewKey')

export const CreateKeyBody = z
  .strictObject({
    scope: z.enum(['admin', 'client']),
    label: z.string().max(200).nullable().optional(),
  })
  .openapi('CreateKeyRequest')

export const KeyIdParam = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' } }) })
