/**
 * D1 queries for licenses and machines. Every query is scoped by account; the indexes they rely on
 * are named in migrations/0002 and docs/schema.md.
 */

export type LicenseStatus = 'active' | 'suspended' | 'revoked'

export interface LicenseRow {
  id: string
  account_id: string
  key: string
  name: string | null
  status: LicenseStatus
  expires_at: number | null
  max_machines: number | null
  entitlements: string
  metadata: string
  created_at: number
  updated_at: number
  machines_count: number
}

export interface MachineRow {
  id: string
  account_id: string
  license_id: string
  fingerprint: string
  name: string | null
  platform: string | null
  created_at: number
  last_heartbeat_at: number | null
}

const LICENSE_COLUMNS = `l.id, l.account_id, l.key, l.name, l.status, l.expires_at, l.max_machines, l.entitlements,
  l.metadata, l.created_at, l.updated_at, (SELECT COUNT(*) FROM machines c WHERE c.license_id = l.id) AS machines_count`
/** The same columns in an UPDATE's RETURNING, where the table cannot be aliased. */
const RETURNED_LICENSE_COLUMNS = LICENSE_COLUMNS.replaceAll('l.', 'licenses.')
const MACHINE_COLUMNS = 'id, account_id, license_id, fingerprint, name, platform, created_at, last_heartbeat_at'
/** The machine columns, prefixed, for the joins that read a license and one of its machines at once. */
const JOINED_MACHINE_COLUMNS = `m.id AS m_id, m.fingerprint AS m_fingerprint, m.name AS m_name, m.platform AS m_platform,
  m.created_at AS m_created_at, m.last_heartbeat_at AS m_last_heartbeat_at`

export interface NewLicense {
  id: string
  account_id: string
  key: string
  name: string | null
  expires_at: number | null
  max_machines: number | null
  entitlements: string[]
  metadata: Record<string, unknown>
  now: number
}

/** Inserts a license; null if the account already has a license with this key (any letter case). */
export async function insertLicense(db: D1Database, l: NewLicense): Promise<LicenseRow | null> {
  const inserted = await db
    .prepare(
      `INSERT INTO licenses (id, account_id, key, name, status, expires_at, max_machines, entitlements, metadata, created_at, updated_at)
       VALUES (?1, ?2, ?3, ?4, 'active', ?5, ?6, ?7, ?8, ?9, ?9)
       ON CONFLICT (account_id, key) DO NOTHING
       RETURNING id`,
    )
    .bind(l.id, l.account_id, l.key, l.name, l.expires_at, l.max_machines, JSON.stringify(l.entitlements), JSON.stringify(l.metadata), l.now)
    .first<{ id: string }>()
  if (!inserted) return null
  return { ...l, status: 'active', entitlements: JSON.stringify(l.entitlements), metadata: JSON.stringify(l.metadata), created_at: l.now, updated_at: l.now, machines_count: 0 }
}

export function getLicense(db: D1Database, accountId: string, id: string): Promise<LicenseRow | null> {
  return db.prepare(`SELECT ${LICENSE_COLUMNS} FROM licenses l WHERE l.id = ?1 AND l.account_id = ?2`).bind(id, accountId).first<LicenseRow>()
}

/** One page, newest first, after the license id `after` (keyset pagination on the time-ordered id). */
export function listLicenses(db: D1Database, accountId: string, opts: { limit: number; after?: string; status?: LicenseStatus }): Promise<LicenseRow[]> {
  return searchLicenses(db, accountId, opts)
}

/**
 * A page of licenses, newest first, after the license id `after`, optionally with a status and a
 * search in key and name (case-insensitive, anywhere in the text: the dashboard's search; it scans
 * the account's licenses, fine for a person's query, and the API never sends one).
 */
export async function searchLicenses(
  db: D1Database,
  accountId: string,
  opts: { limit: number; after?: string; status?: LicenseStatus; query?: string },
): Promise<LicenseRow[]> {
  const where = ['l.account_id = ?']
  const params: unknown[] = [accountId]
  if (opts.status) where.push('l.status = ?'), params.push(opts.status)
  if (opts.after) where.push('l.id < ?'), params.push(opts.after)
  if (opts.query) {
    const like = `%${opts.query.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`
    where.push("(l.key LIKE ? ESCAPE '\\' OR l.name LIKE ? ESCAPE '\\')"), params.push(like, like)
  }
  const { results } = await db
    .prepare(`SELECT ${LICENSE_COLUMNS} FROM licenses l WHERE ${where.join(' AND ')} ORDER BY l.id DESC LIMIT ?`)
    .bind(...params, opts.limit)
    .all<LicenseRow>()
  return results
}

export interface LicensePatch {
  name?: string | null
  expires_at?: number | null
  max_machines?: number | null
  entitlements?: string[]
  metadata?: Record<string, unknown>
}

/** Applies a patch unless the license is revoked; null if nothing was updated (unknown or revoked). */
export function updateLicense(db: D1Database, accountId: string, id: string, patch: LicensePatch, now: number): Promise<LicenseRow | null> {
  const sets: string[] = ['updated_at = ?3']
  const values: unknown[] = [id, accountId, now]
  const set = (column: string, value: unknown) => {
    values.push(value)
    sets.push(`${column} = ?${values.length}`)
  }
  if (patch.name !== undefined) set('name', patch.name)
  if (patch.expires_at !== undefined) set('expires_at', patch.expires_at)
  if (patch.max_machines !== undefined) set('max_machines', patch.max_machines)
  if (patch.entitlements !== undefined) set('entitlements', JSON.stringify(patch.entitlements))
  if (patch.metadata !== undefined) set('metadata', JSON.stringify(patch.metadata))
  return db
    .prepare(
      `UPDATE licenses SET ${sets.join(', ')} WHERE id = ?1 AND account_id = ?2 AND status <> 'revoked'
       RETURNING ${RETURNED_LICENSE_COLUMNS}`,
    )
    .bind(...values)
    .first<LicenseRow>()
}

/**
 * Moves a license to `to` unless it is revoked (final); `from` limits which states may move.
 * Null if nothing changed: unknown, revoked, or not in a `from` state.
 */
export function setLicenseStatus(
  db: D1Database,
  accountId: string,
  id: string,
  to: LicenseStatus,
  from: LicenseStatus[],
  now: number,
): Promise<LicenseRow | null> {
  const states = from.map((s) => `'${s}'`).join(', ')
  return db
    .prepare(
      `UPDATE licenses SET status = ?3, updated_at = ?4 WHERE id = ?1 AND account_id = ?2 AND status IN (${states})
       RETURNING ${RETURNED_LICENSE_COLUMNS}`,
    )
    .bind(id, accountId, to, now)
    .first<LicenseRow>()
}

/** A license found by key, with the machine of `fingerprint` on it if there is one. */
export interface LicenseWithMachine {
  license: LicenseRow
  machine: MachineRow | null
}

type JoinedRow = LicenseRow & {
  m_id: string | null
  m_fingerprint: string | null
  m_name: string | null
  m_platform: string | null
  m_created_at: number | null
  m_last_heartbeat_at: number | null
}

function lookupStatement(db: D1Database, accountId: string, key: string, fingerprint: string | null): D1PreparedStatement {
  return db
    .prepare(
      `SELECT ${LICENSE_COLUMNS}, ${JOINED_MACHINE_COLUMNS}
       FROM licenses l LEFT JOIN machines m ON m.license_id = l.id AND m.fingerprint = ?3
       WHERE l.account_id = ?1 AND l.key = ?2`,
    )
    .bind(accountId, key, fingerprint)
}

function splitJoined(row: JoinedRow | null | undefined): LicenseWithMachine | null {
  if (!row) return null
  const { m_id, m_fingerprint, m_name, m_platform, m_created_at, m_last_heartbeat_at, ...license } = row
  const machine: MachineRow | null =
    m_id === null
      ? null
      : {
          id: m_id,
          account_id: license.account_id,
          license_id: license.id,
          fingerprint: m_fingerprint!,
          name: m_name,
          platform: m_platform,
          created_at: m_created_at!,
          last_heartbeat_at: m_last_heartbeat_at,
        }
  return { license, machine }
}

/** The validate query: one indexed read of the license and its machine for `fingerprint`. */
export async function findLicenseByKey(db: D1Database, accountId: string, key: string, fingerprint: string | null): Promise<LicenseWithMachine | null> {
  return splitJoined(await lookupStatement(db, accountId, key, fingerprint).first<JoinedRow>())
}

export interface Activation {
  accountId: string
  key: string
  fingerprint: string
  name: string | null
  platform: string | null
  machineId: string
  now: number
}

/**
 * Activation in one D1 batch (one round trip, one transaction): insert the machine only if the
 * license is active, unexpired and under its machine limit, counted in the same statement, so
 * concurrent activations cannot pass the limit; then read the license and the fingerprint's machine.
 * The caller learns what happened from the result: the machine has `machineId` if it was created now.
 */
export async function activateMachine(db: D1Database, a: Activation): Promise<LicenseWithMachine | null> {
  const insert = db
    .prepare(
      `INSERT INTO machines (id, account_id, license_id, fingerprint, name, platform, created_at)
       SELECT ?1, l.account_id, l.id, ?4, ?5, ?6, ?7 FROM licenses l
       WHERE l.account_id = ?2 AND l.key = ?3 AND l.status = 'active' AND (l.expires_at IS NULL OR l.expires_at > ?7)
         AND (l.max_machines IS NULL OR (SELECT COUNT(*) FROM machines c WHERE c.license_id = l.id) < l.max_machines)
       ON CONFLICT (license_id, fingerprint) DO NOTHING`,
    )
    .bind(a.machineId, a.accountId, a.key, a.fingerprint, a.name, a.platform, a.now)
  const [, read] = await db.batch<JoinedRow>([insert, lookupStatement(db, a.accountId, a.key, a.fingerprint)])
  return splitJoined(read.results[0])
}

/** Removes the machine of `fingerprint` from the license with `key`; null if there is none. */
export function deleteMachineByFingerprint(db: D1Database, accountId: string, key: string, fingerprint: string): Promise<MachineRow | null> {
  return db
    .prepare(
      `DELETE FROM machines WHERE account_id = ?1 AND fingerprint = ?3
         AND license_id = (SELECT id FROM licenses WHERE account_id = ?1 AND key = ?2)
       RETURNING ${MACHINE_COLUMNS}`,
    )
    .bind(accountId, key, fingerprint)
    .first<MachineRow>()
}

/** Records a heartbeat of the machine of `fingerprint`; null if there is none. */
export function heartbeatMachine(db: D1Database, accountId: string, key: string, fingerprint: string, now: number): Promise<MachineRow | null> {
  return db
    .prepare(
      `UPDATE machines SET last_heartbeat_at = ?4 WHERE account_id = ?1 AND fingerprint = ?3
         AND license_id = (SELECT id FROM licenses WHERE account_id = ?1 AND key = ?2)
       RETURNING ${MACHINE_COLUMNS}`,
    )
    .bind(accountId, key, fingerprint, now)
    .first<MachineRow>()
}

export async function licenseKeyExists(db: D1Database, accountId: string, key: string): Promise<boolean> {
  return (await db.prepare('SELECT 1 AS found FROM licenses WHERE account_id = ?1 AND key = ?2').bind(accountId, key).first()) !== null
}

export async function listMachines(db: D1Database, accountId: string, licenseId: string): Promise<MachineRow[]> {
  const { results } = await db
    .prepare(`SELECT ${MACHINE_COLUMNS} FROM machines WHERE license_id = ?2 AND account_id = ?1 ORDER BY id`)
    .bind(accountId, licenseId)
    .all<MachineRow>()
  return results
}

export function deleteMachine(db: D1Database, accountId: string, machineId: string): Promise<MachineRow | null> {
  return db.prepare(`DELETE FROM machines WHERE id = ?2 AND account_id = ?1 RETURNING ${MACHINE_COLUMNS}`).bind(accountId, machineId).first<MachineRow>()
}
