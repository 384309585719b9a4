import { describe, expect, it } from 'vitest'
import type { LicenseRow, MachineRow } from '../../src/licenses/queries'
import { licenseRefusal, validationCode } from '../../src/licenses/rules'

const NOW = Date.UTC(2027, 0, 1)
const license = (over: Partial<LicenseRow> = {}): LicenseRow => ({
  id: 'lic_1', account_id: 'acc_1', key: 'K', name: null, status: 'active', expires_at: null, max_machines: null,
  entitlements: '["pro"]', metadata: '{}', created_at: 0, updated_at: 0, machines_count: 0, ...over,
})
const machine: MachineRow = { id: 'mch_1', account_id: 'acc_1', license_id: 'lic_1', fingerprint: 'fp', name: null, platform: null, created_at: 0, last_heartbeat_at: null }

describe('validationCode', () => {
  it('expires at the expiry instant, not a millisecond later', () => {
    expect(validationCode({ license: license({ expires_at: NOW + 1 }), machine: null }, {}, NOW)).toBe('VALID')
    expect(validationCode({ license: license({ expires_at: NOW }), machine: null }, {}, NOW)).toBe('EXPIRED')
  })
  it('checks the fingerprint only when one is given, and entitlements only when asked', () => {
    expect(validationCode({ license: license(), machine: null }, {}, NOW)).toBe('VALID')
    expect(validationCode({ license: license(), machine: null }, { fingerprint: 'fp' }, NOW)).toBe('FINGERPRINT_NOT_ACTIVATED')
    expect(validationCode({ license: license(), machine }, { fingerprint: 'fp', entitlements: ['pro'] }, NOW)).toBe('VALID')
    expect(validationCode({ license: license(), machine }, { fingerprint: 'fp', entitlements: ['pro', 'team'] }, NOW)).toBe('ENTITLEMENTS_MISSING')
    expect(validationCode({ license: license(), machine: null }, { entitlements: [] }, NOW)).toBe('VALID')
  })
  it('orders REVOKED, SUSPENDED, EXPIRED, FINGERPRINT_NOT_ACTIVATED, ENTITLEMENTS_MISSING', () => {
    const request = { fingerprint: 'fp', entitlements: ['team'] }
    const expired = { expires_at: NOW - 1 }
    expect(validationCode({ license: license({ status: 'revoked', ...expired }), machine: null }, request, NOW)).toBe('REVOKED')
    expect(validationCode({ license: license({ status: 'suspended', ...expired }), machine: null }, request, NOW)).toBe('SUSPENDED')
    expect(validationCode({ license: license(expired), machine: null }, request, NOW)).toBe('EXPIRED')
    expect(validationCode({ license: license(), machine: null }, request, NOW)).toBe('FINGERPRINT_NOT_ACTIVATED')
    expect(validationCode(null, request, NOW)).toBe('NOT_FOUND')
  })
})

describe('licenseRefusal', () => {
  it('refuses revoked, then suspended, then expired; accepts an active unexpired license', () => {
    expect(licenseRefusal(license({ status: 'revoked', expires_at: 0 }), NOW)).toBe('license/revoked')
    expect(licenseRefusal(license({ status: 'suspended', expires_at: 0 }), NOW)).toBe('license/suspended')
    expect(licenseRefusal(license({ expires_at: 0 }), NOW)).toBe('license/expired')
    expect(licenseRefusal(license({ expires_at: NOW + 1 }), NOW)).toBeNull()
  })
})
