// The objects of the KeyStack API (contract section 4), as the SDK returns them.

export type KeyScope = 'admin' | 'client'
export type LicenseStatus = 'active' | 'suspended' | 'revoked'
export type ValidationCode =
  | 'VALID'
  | 'NOT_FOUND'
  | 'EXPIRED'
  | 'SUSPENDED'
  | 'REVOKED'
  | 'FINGERPRINT_NOT_ACTIVATED'
  | 'ENTITLEMENTS_MISSING'

export interface Account {
  id: string
  name: string
  created_at: string
}

export interface ApiKey {
  id: string
  scope: KeyScope
  label: string | null
  created_at: string
  last_used_at: string | null
  revoked_at: string | null
}

/** A key as created: the secret is in this object only, once. */
export interface NewApiKey {
  id: string
  scope: KeyScope
  label: string | null
  secret: string
  created_at: string
}

export interface License {
  id: string
  key: string
  name: string | null
  status: LicenseStatus
  expires_at: string | null
  max_machines: number | null
  machines_count: number
  entitlements: string[]
  metadata: Record<string, unknown>
  created_at: string
  updated_at: string
}

export interface Machine {
  id: string
  license_id: string
  fingerprint: string
  name: string | null
  platform: string | null
  created_at: string
  last_heartbeat_at: string | null
}

export interface ValidationResult {
  valid: boolean
  code: ValidationCode
  license: License | null
  machine: Machine | null
}

export interface Page<T> {
  data: T[]
  next_cursor: string | null
}

export interface CreateLicenseInput {
  key?: string
  name?: string | null
  expires_at?: string | null
  max_machines?: number | null
  entitlements?: string[]
  metadata?: Record<string, unknown>
}

export type UpdateLicenseInput = Omit<CreateLicenseInput, 'key'>

export interface ListLicensesInput {
  limit?: number
  cursor?: string
  status?: LicenseStatus
}

export interface ValidateInput {
  key: string
  fingerprint?: string
  entitlements?: string[]
}

export interface ActivateInput {
  key: string
  fingerprint: string
  name?: string
  platform?: string
}

export interface MachineInput {
  key: string
  fingerprint: string
}
