import { z } from '@hono/zod-openapi'
import { countActivity } from '../activity'
import { accountOf } from '../auth/middleware'
import { ApiError } from '../errors'
import { newMachineId, rfc3339 } from '../ids'
import { signedRoute } from '../openapi'
import { decodeCursor, encodeCursor } from '../pagination'
import { newRouter } from '../router'
import * as q from './queries'
import { licenseRefusal, validationCode } from './rules'
import { changeLicenseStatus, createLicenseForAccount, updateLicenseOfAccount } from './service'
import { accountSigningKey, signWithAccountKey } from '../accounts/signing-key'
import { toBase64Url } from '../encoding'
import { armourLicenseFile } from './file-format'
import {
  ActivateBody, CheckoutBody, CheckoutResult, CreateLicenseBody, IdParam, LicenseSchema, ListLicensesQuery, MachineBody, MachineSchema,
  UpdateLicenseBody, ValidateBody, ValidateResult,
} from './schemas'
import { licenseView, machineView } from './views'

const LICENSE_ID = /^lic_[0-9A-Z]{26}$/
const json = <T extends z.ZodType>(schema: T) => ({ content: { 'application/json': { schema } } })
const body = <T extends z.ZodType>(schema: T) => ({ body: { required: true, ...json(schema) } })
const licenseResponse = (description: string) => ({ description, ...json(z.object({ license: LicenseSchema })) })
const BODY_ERRORS = ['api/invalid-json', 'api/validation-failed'] as const

// Admin scope: manage licenses.

export const createLicenseRoute = signedRoute(['admin'], {
  method: 'post',
  path: '/v1/licenses',
  summary: 'Create a license (generated key, or import your own)',
  request: body(CreateLicenseBody),
  errors: [...BODY_ERRORS, 'license/key-taken'],
  responses: { 201: licenseResponse('The new license') },
})

export const listLicensesRoute = signedRoute(['admin'], {
  method: 'get',
  path: '/v1/licenses',
  summary: 'List licenses, newest first, a page at a time',
  request: { query: ListLicensesQuery },
  errors: ['api/validation-failed'],
  responses: {
    200: { description: 'A page of licenses', ...json(z.object({ data: z.array(LicenseSchema), next_cursor: z.string().nullable() })) },
  },
})

export const getLicenseRoute = signedRoute(['admin'], {
  method: 'get',
  path: '/v1/licenses/{id}',
  summary: 'Get a license',
  request: { params: IdParam },
  errors: ['license/not-found'],
  responses: { 200: licenseResponse('The license') },
})

export const updateLicenseRoute = signedRoute(['admin'], {
  method: 'patch',
  path: '/v1/licenses/{id}',
  summary: 'Change name, expiry, machine limit, entitlements or metadata',
  request: { params: IdParam, ...body(UpdateLicenseBody) },
  errors: [...BODY_ERRORS, 'license/not-found', 'license/revoked'],
  responses: { 200: licenseResponse('The updated license') },
})

export const suspendLicenseRoute = signedRoute(['admin'], {
  method: 'post',
  path: '/v1/licenses/{id}/suspend',
  summary: 'Suspend a license (validate answers SUSPENDED until it is reinstated)',
  request: { params: IdParam },
  errors: ['license/not-found', 'license/revoked'],
  responses: { 200: licenseResponse('The suspended license') },
})

export const reinstateLicenseRoute = signedRoute(['admin'], {
  method: 'post',
  path: '/v1/licenses/{id}/reinstate',
  summary: 'Reinstate a suspended license',
  request: { params: IdParam },
  errors: ['license/not-found', 'license/revoked'],
  responses: { 200: licenseResponse('The active license') },
})

export const revokeLicenseRoute = signedRoute(['admin'], {
  method: 'delete',
  path: '/v1/licenses/{id}',
  summary: 'Revoke a license (final)',
  request: { params: IdParam },
  errors: ['license/not-found'],
  responses: { 200: licenseResponse('The revoked license') },
})

export const listMachinesRoute = signedRoute(['admin'], {
  method: 'get',
  path: '/v1/licenses/{id}/machines',
  summary: "List a license's machines",
  request: { params: IdParam },
  errors: ['license/not-found'],
  responses: { 200: { description: 'The machines, oldest first', ...json(z.object({ data: z.array(MachineSchema) })) } },
})

export const deleteMachineRoute = signedRoute(['admin'], {
  method: 'delete',
  path: '/v1/machines/{id}',
  summary: 'Remove a machine from its license (frees an activation)',
  request: { params: IdParam },
  errors: ['machine/not-found'],
  responses: { 200: { description: 'The removed machine', ...json(z.object({ machine: MachineSchema })) } },
})

// Client scope (admin too): what the vendor's shipped app calls.

export const validateRoute = signedRoute(['client', 'admin'], {
  method: 'post',
  path: '/v1/licenses/validate',
  summary: 'Validate a license key (200 for every well-formed body; branch on code)',
  request: body(ValidateBody),
  errors: BODY_ERRORS,
  responses: { 200: { description: 'The verdict', ...json(ValidateResult) } },
}, { readOnly: true }) // the license read runs while the replay store answers

export const activateRoute = signedRoute(['client', 'admin'], {
  method: 'post',
  path: '/v1/licenses/activate',
  summary: 'Activate a machine on a license (idempotent per fingerprint)',
  request: body(ActivateBody),
  errors: [...BODY_ERRORS, 'license/not-found', 'license/revoked', 'license/suspended', 'license/expired', 'machine/limit-reached'],
  responses: {
    200: { description: 'Already active on this fingerprint: the same machine', ...json(z.object({ machine: MachineSchema, license: LicenseSchema })) },
    201: { description: 'Activated', ...json(z.object({ machine: MachineSchema, license: LicenseSchema })) },
  },
})

export const deactivateRoute = signedRoute(['client', 'admin'], {
  method: 'post',
  path: '/v1/licenses/deactivate',
  summary: 'Deactivate a machine (frees an activation; works whatever the license status)',
  request: body(MachineBody),
  errors: [...BODY_ERRORS, 'license/not-found', 'machine/not-found'],
  responses: { 200: { description: 'The removed machine', ...json(z.object({ machine: MachineSchema })) } },
})

export const heartbeatRoute = signedRoute(['client', 'admin'], {
  method: 'post',
  path: '/v1/licenses/heartbeat',
  summary: "Record that a machine is running",
  request: body(MachineBody),
  errors: [...BODY_ERRORS, 'license/not-found', 'machine/not-found'],
  responses: { 200: { description: 'The machine, with last_heartbeat_at', ...json(z.object({ machine: MachineSchema })) } },
})

export const checkoutRoute = signedRoute(['client', 'admin'], {
  method: 'post',
  path: '/v1/licenses/checkout',
  summary: 'Check out an offline license file, signed with the account key',
  request: body(CheckoutBody),
  errors: [...BODY_ERRORS, 'license/not-found', 'license/revoked', 'license/suspended', 'license/expired', 'machine/not-found', 'api/signing-unavailable'],
  responses: { 200: { description: 'The license file', ...json(CheckoutResult) } },
}, { readOnly: true })

/** Default lifetime of a license file: 30 days. */
export const DEFAULT_FILE_TTL_SECONDS = 2_592_000
const encoder = new TextEncoder()

/** A machine was not found by key and fingerprint: say whether the license or the machine is missing. */
async function refuseMachineLookup(db: D1Database, accountId: string, key: string): Promise<never> {
  throw new ApiError((await q.licenseKeyExists(db, accountId, key)) ? 'machine/not-found' : 'license/not-found')
}

export const licenseRoutes = newRouter()
  // The static paths first, so /v1/licenses/validate is never taken for an id.
  .openapi(validateRoute, async (c) => {
    const req = c.req.valid('json')
    const found = await q.findLicenseByKey(c.env.DB, accountOf(c), req.key, req.fingerprint ?? null)
    const code = validationCode(found, req, c.get('now'))
    // Counted once the replay store accepted the request: this route runs before its verdict.
    const accountId = accountOf(c)
    c.executionCtx.waitUntil(
      c.get('replayAccepted').then((accepted) => (accepted ? countActivity(c.env, accountId, 'validations', c.get('now')) : null) ?? undefined),
    )
    return c.json(
      {
        valid: code === 'VALID',
        code,
        license: found ? licenseView(found.license) : null,
        machine: found?.machine ? machineView(found.machine) : null,
      },
      200,
    )
  })
  .openapi(activateRoute, async (c) => {
    const req = c.req.valid('json')
    const now = c.get('now')
    const machineId = newMachineId(now)
    const result = await q.activateMachine(c.env.DB, {
      accountId: accountOf(c),
      key: req.key,
      fingerprint: req.fingerprint,
      name: req.name ?? null,
      platform: req.platform ?? null,
      machineId,
      now,
    })
    if (!result) throw new ApiError('license/not-found')
    const refusal = licenseRefusal(result.license, now)
    if (refusal) throw new ApiError(refusal)
    if (!result.machine) throw new ApiError('machine/limit-reached')
    const payload = { machine: machineView(result.machine), license: licenseView(result.license) }
    if (result.machine.id !== machineId) return c.json(payload, 200)
    const flush = countActivity(c.env, accountOf(c), 'activations', now)
    if (flush) c.executionCtx.waitUntil(flush)
    return c.json(payload, 201)
  })
  .openapi(deactivateRoute, async (c) => {
    const { key, fingerprint } = c.req.valid('json')
    const accountId = accountOf(c)
    const machine = await q.deleteMachineByFingerprint(c.env.DB, accountId, key, fingerprint)
    if (!machine) return refuseMachineLookup(c.env.DB, accountId, key)
    return c.json({ machine: machineView(machine) }, 200)
  })
  .openapi(heartbeatRoute, async (c) => {
    const { key, fingerprint } = c.req.valid('json')
    const accountId = accountOf(c)
    const machine = await q.heartbeatMachine(c.env.DB, accountId, key, fingerprint, c.get('now'))
    if (!machine) return refuseMachineLookup(c.env.DB, accountId, key)
    return c.json({ machine: machineView(machine) }, 200)
  })
  .openapi(checkoutRoute, async (c) => {
    const req = c.req.valid('json')
    const accountId = accountOf(c)
    const now = c.get('now')
    const found = await q.findLicenseByKey(c.env.DB, accountId, req.key, req.fingerprint ?? null)
    if (!found) throw new ApiError('license/not-found')
    const refusal = licenseRefusal(found.license, now)
    if (refusal) throw new ApiError(refusal)
    if (req.fingerprint !== undefined && !found.machine) throw new ApiError('machine/not-found')
    const expiresAt = Math.min(now + (req.ttl_seconds ?? DEFAULT_FILE_TTL_SECONDS) * 1000, found.license.expires_at ?? Infinity)
    const payload = {
      v: 1,
      account_id: accountId,
      license: licenseView(found.license),
      machine: found.machine ? machineView(found.machine) : null,
      issued_at: rfc3339(now),
      expires_at: rfc3339(expiresAt),
    }
    const payloadPart = toBase64Url(encoder.encode(JSON.stringify(payload)))
    let signaturePart: string
    try {
      const key = await accountSigningKey(c.env, accountId, c.get('verified').credential.signingKeySealed)
      signaturePart = await signWithAccountKey(key, encoder.encode(payloadPart))
    } catch (err) {
      console.error(`[${c.get('requestId')}] could not sign a license file:`, err instanceof Error ? err.message : String(err))
      throw new ApiError('api/signing-unavailable')
    }
    return c.json({ file: armourLicenseFile(payloadPart, signaturePart), expires_at: payload.expires_at }, 200)
  })
  .openapi(createLicenseRoute, async (c) => {
    const license = await createLicenseForAccount(c.env.DB, accountOf(c), c.req.valid('json'), c.get('now'))
    return c.json({ license: licenseView(license) }, 201)
  })
  .openapi(listLicensesRoute, async (c) => {
    const { limit, cursor, status } = c.req.valid('query')
    const after = cursor === undefined ? undefined : decodeCursor(cursor, LICENSE_ID)
    const rows = await q.listLicenses(c.env.DB, accountOf(c), { limit: limit + 1, after, status })
    const page = rows.slice(0, limit)
    const nextCursor = rows.length > limit ? encodeCursor(page[page.length - 1].id) : null
    return c.json({ data: page.map(licenseView), next_cursor: nextCursor }, 200)
  })
  .openapi(getLicenseRoute, async (c) => {
    const license = await q.getLicense(c.env.DB, accountOf(c), c.req.valid('param').id)
    if (!license) throw new ApiError('license/not-found')
    return c.json({ license: licenseView(license) }, 200)
  })
  .openapi(updateLicenseRoute, async (c) => {
    const license = await updateLicenseOfAccount(c.env.DB, accountOf(c), c.req.valid('param').id, c.req.valid('json'), c.get('now'))
    return c.json({ license: licenseView(license) }, 200)
  })
  .openapi(suspendLicenseRoute, async (c) => {
    const license = await changeLicenseStatus(c.env.DB, accountOf(c), c.req.valid('param').id, 'suspend', c.get('now'))
    return c.json({ license: licenseView(license) }, 200)
  })
  .openapi(reinstateLicenseRoute, async (c) => {
    const license = await changeLicenseStatus(c.env.DB, accountOf(c), c.req.valid('param').id, 'reinstate', c.get('now'))
    return c.json({ license: licenseView(license) }, 200)
  })
  .openapi(revokeLicenseRoute, async (c) => {
    const license = await changeLicenseStatus(c.env.DB, accountOf(c), c.req.valid('param').id, 'revoke', c.get('now'))
    return c.json({ license: licenseView(license) }, 200)
  })
  .openapi(listMachinesRoute, async (c) => {
    const accountId = accountOf(c)
    const { id } = c.req.valid('param')
    const [license, machines] = await Promise.all([q.getLicense(c.env.DB, accountId, id), q.listMachines(c.env.DB, accountId, id)])
    if (!license) throw new ApiError('license/not-found')
    return c.json({ data: machines.map(machineView) }, 200)
  })
  .openapi(deleteMachineRoute, async (c) => {
    const machine = await q.deleteMachine(c.env.DB, accountOf(c), c.req.valid('param').id)
    if (!machine) throw new ApiError('machine/not-found')
    return c.json({ machine: machineView(machine) }, 200)
  })
