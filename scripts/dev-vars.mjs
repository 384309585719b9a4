// Reads and creates `.dev.vars`, the local secrets file (never committed).
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
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

/** Creates `.dev.vars` with a random master key and operator credentials, unless it exists. True if created. */
export function ensureDevVars(file = devVarsPath) {
  if (existsSync(file)) return false
  const b64 = (n) => randomBytes(n).toString('base64url')
  const text = [
    '# Local secrets for `npm start`, generated on first start. Never commit this file.',
    `KEYSTACK_MASTER_KEY="${b64(32)}"`,
    `KEYSTACK_OPERATOR_KEY_ID="key_op_${b64(12)}"`,
    `KEYSTACK_OPERATOR_SECRET="kss_${b64(32)}"`,
    '',
  ].join('\n')
  writeFileSync(file, text, { mode: 0o600, flag: 'wx' })
  return true
}
