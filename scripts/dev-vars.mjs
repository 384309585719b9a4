// Reads and creates `.dev.vars`, the local secrets file (never committed).
import { randomBytes } from 'node:crypto'
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'

export const root = path.resolve(import.meta.dirname, '..')
export const devVarsPath = path.join(root, '.dev.vars')

/** Parses KEY=value lines (values may be double-quoted). */
export function readDevVars(file = devVarsPath) {
  const vars = {}
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = line.match(/^\s*([A-Z0-9_]+)\s*=\s*"?(.*?)"?\s*$/)
    if (m) vars[m[1]] = m[2]
  }
  return vars
}

const b64 = (n) => randomBytes(n).toString('base64url')
/** Every local secret and how to make a random one. */
const SECRETS = {
  KEYSTACK_MASTER_KEY: () => b64(32),
  KEYSTACK_OPERATOR_KEY_ID: () => `key_op_${b64(12)}`,
  KEYSTACK_OPERATOR_SECRET: () => `kss_${b64(32)}`,
  KEYSTACK_JWT_SECRET: () => b64(32),
}

/**
 * Creates `.dev.vars` with random secrets, or adds the ones an older file lacks (existing values
 * are kept, so local data stays readable). Returns the names it wrote.
 */
export function ensureDevVars(file = devVarsPath) {
  const existing = existsSync(file) ? readDevVars(file) : null
  const missing = Object.keys(SECRETS).filter((name) => !existing?.[name])
  if (missing.length === 0) return []
  const lines = missing.map((name) => `${name}="${SECRETS[name]()}"`)
  if (existing) appendFileSync(file, `\n${lines.join('\n')}\n`)
  else writeFileSync(file, ['# Local secrets for `npm start`, generated on first start. Never commit this file.', ...lines, ''].join('\n'), { mode: 0o600, flag: 'wx' })
  return missing
}
