import type { CreateLicenseInput } from '../client/types.ts'
import { ApiError } from '../errors'
import { newLicenseId } from '../ids'
import { generateLicenseKey } from './license-key'
import * as q from './queries'

// License operations shared by the API and the dashboard.

/** The fields of a license a vendor sets: the contract's request shape, as the SDK declares it. */
export type LicenseInput = CreateLicenseInput

const ms = (rfc3339: string | null | undefined) => (rfc3339 === undefined ? undefined : rfc3339 === null ? null : Date.parse(rfc3339))

export async function createLicenseForAccount(db: D1Database, accountId: string, input: LicenseInput, nowMs: number): Promise<q.LicenseRow> {
  const license = await q.insertLicense(db, {
    id: newLicenseId(nowMs),
    account_id: accountId,
    key: input.key ?? generateLicenseKey(),
    name: input.name ?? null,
    expires_at: ms(input.expires_at) ?? null,
    max_machines: input.max_machines ?? null,
    entitlements: [...new Set(input.entitlements ?? [])],
    metadata: input.metadata ?? {},
    now: nowMs,
  })
  if (!license) throw new ApiError('license/key-taken')
  return license
}

/** After an update found nothing to change: 404 for an unknown (or foreign) id, else the revoked refusal. */
async function refuseLicenseChange(db: D1Database, accountId: string, id: string): Promise<never> {
  if (!(await q.getLicense(db, accountId, id))) throw new ApiError('license/not-found')
  throw new ApiError('license/revoked')
}

export async function updateLicenseOfAccount(db: D1Database, accountId: string, id: string, input: Omit<LicenseInput, 'key'>, nowMs: number): Promise<q.LicenseRow> {
  const patch: q.LicensePatch = {
    name: input.name,
    expires_at: ms(input.expires_at),
    max_machines: input.max_machines,
    entitlements: input.entitlements && [...new Set(input.entitlements)],
    metadata: input.metadata,
  }
  return (await q.updateLicense(db, accountId, id, patch, nowMs)) ?? refuseLicenseChange(db, accountId, id)
}

export type LicenseAction = 'suspend' | 'reinstate' | 'revoke'

/** Suspend and reinstate are idempotent; revoke is final (and idempotent too); a revoked license refuses the others. */
export async function changeLicenseStatus(db: D1Database, accountId: string, id: string, action: LicenseAction, nowMs: number): Promise<q.LicenseRow> {
  const to = action === 'suspend' ? 'suspended' : action === 'reinstate' ? 'active' : 'revoked'
  const changed = await q.setLicenseStatus(db, accountId, id, to, ['active', 'suspended'], nowMs)
  if (changed) return changed
  if (action === 'revoke') {
    const license = await q.getLicense(db, accountId, id)
    if (!license) throw new ApiError('license/not-found')
    return license
  }
  return refuseLicenseChange(db, accountId, id)
}
