import type { ErrorCode } from '../errors'
import type { LicenseRow, MachineRow } from './queries'
import type { VALIDATION_CODES } from './schemas'

export type ValidationCode = (typeof VALIDATION_CODES)[number]

export const isExpired = (license: LicenseRow, nowMs: number) => license.expires_at !== null && license.expires_at <= nowMs

/**
 * The validate verdict. Where several apply, the first of REVOKED, SUSPENDED, EXPIRED,
 * FINGERPRINT_NOT_ACTIVATED, ENTITLEMENTS_MISSING wins (contract section 4).
 */
export function validationCode(
  found: { license: LicenseRow; machine: MachineRow | null } | null,
  request: { fingerprint?: string; entitlements?: string[] },
  nowMs: number,
): ValidationCode {
  if (!found) return 'NOT_FOUND'
  const { license, machine } = found
  if (license.status === 'revoked') return 'REVOKED'
  if (license.status === 'suspended') return 'SUSPENDED'
  if (isExpired(license, nowMs)) return 'EXPIRED'
  if (request.fingerprint !== undefined && !machine) return 'FINGERPRINT_NOT_ACTIVATED'
  if (request.entitlements?.length) {
    const held = new Set<string>(JSON.parse(license.entitlements))
    if (!request.entitlements.every((e) => held.has(e))) return 'ENTITLEMENTS_MISSING'
  }
  return 'VALID'
}

/** Why a license cannot take a new machine (or a checkout), in the contract's order; null if it can. */
export function licenseRefusal(license: LicenseRow, nowMs: number): ErrorCode | null {
  if (license.status === 'revoked') return 'license/revoked'
  if (license.status === 'suspended') return 'license/suspended'
  if (isExpired(license, nowMs)) return 'license/expired'
  return null
}
