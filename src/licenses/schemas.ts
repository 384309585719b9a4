import { z } from '@hono/zod-openapi'
import { IMPORTED_LICENSE_KEY } from './license-key'

const METADATA_MAX_BYTES = 4096
const encoder = new TextEncoder()

const Rfc3339 = z.iso.datetime({ offset: true }).openapi({ example: '2027-01-01T00:00:00Z' })
const Entitlement = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, '1 to 64 of A-Z, a-z, 0-9, _ . : -')
const Entitlements = z.array(Entitlement).max(100).openapi({ example: ['pro', 'export:pdf'] })
const Metadata = z
  .record(z.string(), z.unknown())
  .refine((value) => encoder.encode(JSON.stringify(value)).length <= METADATA_MAX_BYTES, 'metadata is larger than 4 KiB as JSON')
  .openapi({ type: 'object', example: { order_id: 'ord_123' } })
const MaxMachines = z.number().int().min(1).max(1_000_000).nullable().openapi({ description: 'null: unlimited' })
const Name = z.string().max(200).nullable()
const LicenseKey = z.string().regex(IMPORTED_LICENSE_KEY, '4 to 128 printable ASCII characters without spaces')
const Fingerprint = z.string().min(1).max(256)

export const LicenseSchema = z
  .object({
    id: z.string().openapi({ example: 'lic_01JH8Z6A7Q3VJ1T7E6X0R2M4NB' }),
    key: z.string().openapi({ example: 'K7QXM-4MZPA-9TRHB-2WJDC-6VNBE' }),
    name: z.string().nullable(),
    status: z.enum(['active', 'suspended', 'revoked']),
    expires_at: z.string().nullable(),
    max_machines: z.number().int().nullable(),
    machines_count: z.number().int(),
    entitlements: z.array(z.string()),
    metadata: z.record(z.string(), z.unknown()),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('License')

export const MachineSchema = z
  .object({
    id: z.string().openapi({ example: 'mch_01JH8Z7B2K4Q9W3E5R7T1Y6U8I' }),
    license_id: z.string(),
    fingerprint: z.string(),
    name: z.string().nullable(),
    platform: z.string().nullable(),
    created_at: z.string(),
    last_heartbeat_at: z.string().nullable(),
  })
  .openapi('Machine')

export const CreateLicenseBody = z
  .strictObject({
    key: LicenseKey.optional().openapi({ description: 'Import your own key; generated when absent.' }),
    name: Name.optional(),
    expires_at: Rfc3339.nullable().optional(),
    max_machines: MaxMachines.optional(),
    entitlements: Entitlements.optional(),
    metadata: Metadata.optional(),
  })
  .openapi('CreateLicenseRequest')

export const UpdateLicenseBody = z
  .strictObject({
    name: Name.optional(),
    expires_at: Rfc3339.nullable().optional(),
    max_machines: MaxMachines.optional(),
    entitlements: Entitlements.optional(),
    metadata: Metadata.optional(),
  })
  .openapi('UpdateLicenseRequest')

export const ListLicensesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ param: { name: 'limit', in: 'query' }, example: 20 }),
  cursor: z.string().optional().openapi({ param: { name: 'cursor', in: 'query' }, description: 'next_cursor of the previous page' }),
  status: z.enum(['active', 'suspended', 'revoked']).optional().openapi({ param: { name: 'status', in: 'query' } }),
})

export const IdParam = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' } }) })

export const ValidateBody = z
  .strictObject({
    key: z.string().min(1).max(128),
    fingerprint: Fingerprint.optional(),
    entitlements: z.array(z.string().min(1).max(64)).max(100).optional(),
  })
  .openapi('ValidateRequest')

export const VALIDATION_CODES = [
  'VALID', 'NOT_FOUND', 'EXPIRED', 'SUSPENDED', 'REVOKED', 'FINGERPRINT_NOT_ACTIVATED', 'ENTITLEMENTS_MISSING',
] as const

export const ValidateResult = z
  .object({
    valid: z.boolean(),
    code: z.enum(VALIDATION_CODES),
    license: LicenseSchema.nullable(),
    machine: MachineSchema.nullable(),
  })
  .openapi('ValidationResult')

export const ActivateBody = z
  .strictObject({
    key: z.string().min(1).max(128),
    fingerprint: Fingerprint,
    name: z.string().max(200).optional(),
    platform: z.string().max(100).optional(),
  })
  .openapi('ActivateRequest')

export const MachineBody = z
  .strictObject({ key: z.string().min(1).max(128), fingerprint: Fingerprint })
  .openapi('MachineRequest')

export const CheckoutBody = z
  .strictObject({
    key: z.string().min(1).max(128),
    fingerprint: Fingerprint.optional(),
    ttl_seconds: z.number().int().min(3600).max(31_536_000).optional().openapi({ description: 'Default 2,592,000 (30 days).' }),
  })
  .openapi('CheckoutRequest')

export const CheckoutResult = z
  .object({
    file: z.string().openapi({ description: 'The signed license file (armoured, see the README).' }),
    expires_at: z.string(),
  })
  .openapi('LicenseFile')
