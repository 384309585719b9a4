import { rfc3339, rfc3339OrNull } from '../ids'
import type { LicenseRow, MachineRow } from './queries'

export function licenseView(row: LicenseRow) {
  return {
    id: row.id,
    key: row.key,
    name: row.name,
    status: row.status,
    expires_at: rfc3339OrNull(row.expires_at),
    max_machines: row.max_machines,
    machines_count: row.machines_count,
    entitlements: JSON.parse(row.entitlements) as string[],
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    created_at: rfc3339(row.created_at),
    updated_at: rfc3339(row.updated_at),
  }
}

export function machineView(row: MachineRow) {
  return {
    id: row.id,
    license_id: row.license_id,
    fingerprint: row.fingerprint,
    name: row.name,
    platform: row.platform,
    created_at: rfc3339(row.created_at),
    last_heartbeat_at: rfc3339OrNull(row.last_heartbeat_at),
  }
}
