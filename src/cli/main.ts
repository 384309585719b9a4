// The `keystack` command line, over the SDK. Node 22+ (type stripping) in the repository; the
// build (`npm run build`) makes dist/cli/main.js for any Node 18+.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { KeyStack, KeyStackError, verifyLicenseFile } from '../client/index.ts'

const USAGE = `keystack: the KeyStack API from the command line

Usage:
  keystack account create [--name NAME]                     (operator)
  keystack key create --scope admin|client [--label LABEL]  (admin)
  keystack key list | key revoke KEY_ID                     (admin)
  keystack license create [--key K] [--name N] [--expires-at RFC3339] [--max-machines N]
                          [--entitlement E]... [--metadata JSON]
  keystack license get ID | list [--limit N] [--cursor C] [--status S]
  keystack license suspend ID | reinstate ID | revoke ID
  keystack account get                                      (admin: shows the public key)
  keystack validate KEY [--fingerprint F] [--entitlement E]...
  keystack checkout KEY [--fingerprint F] [--ttl SECONDS] [--out FILE]
  keystack verify-file FILE --public-key K [--fingerprint F] (offline, no credentials)
  keystack request METHOD PATH [JSON]                       (any signed call)

With --public-key K (or KEYSTACK_PUBLIC_KEY), every answer's signature is checked.
Credentials: --url, --key-id, --secret, or KEYSTACK_URL, KEYSTACK_KEY_ID, KEYSTACK_SECRET; with
none of them, in the project folder, the operator key from .dev.vars and http://127.0.0.1:8787.
--json prints the API's JSON answer unchanged; otherwise a readable table.`

/** What the CLI needs from the outside world, so tests can run it in-process. */
export interface CliIo {
  env: Record<string, string | undefined>
  cwd: string
  out: (line: string) => void
  err: (line: string) => void
  fetch?: typeof fetch
}

interface Credentials {
  baseUrl: string
  keyId: string
  secret: string
}

function readDevVars(path: string): Record<string, string> {
  const vars: Record<string, string> = {}
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = line.match(/^\s*([A-Z0-9_]+)\s*=\s*"?(.*?)"?\s*$/)
    if (m) vars[m[1]] = m[2]
  }
  return vars
}

function credentials(flags: Record<string, unknown>, io: CliIo): Credentials {
  const baseUrl = (flags.url as string | undefined) ?? io.env.KEYSTACK_URL ?? 'http://127.0.0.1:8787'
  let keyId = (flags['key-id'] as string | undefined) ?? io.env.KEYSTACK_KEY_ID
  let secret = (flags.secret as string | undefined) ?? io.env.KEYSTACK_SECRET
  if (!keyId && !secret) {
    const devVars = `${io.cwd}/.dev.vars`
    if (existsSync(devVars)) {
      const vars = readDevVars(devVars)
      keyId = vars.KEYSTACK_OPERATOR_KEY_ID
      secret = vars.KEYSTACK_OPERATOR_SECRET
    }
  }
  if (!keyId || !secret) throw new UsageError('no credentials: pass --key-id and --secret, or set KEYSTACK_KEY_ID and KEYSTACK_SECRET')
  return { baseUrl, keyId, secret }
}

class UsageError extends Error {}

/** Prints rows as aligned columns. */
function table(rows: Record<string, unknown>[], columns: string[]): string[] {
  const cell = (v: unknown) => (v === null || v === undefined ? '-' : Array.isArray(v) ? v.join(',') : typeof v === 'object' ? JSON.stringify(v) : String(v))
  const cells = rows.map((r) => columns.map((c) => cell(r[c])))
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)))
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd()
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)]
}

const LICENSE_COLUMNS = ['id', 'key', 'name', 'status', 'expires_at', 'max_machines', 'machines_count', 'entitlements']
const KEY_COLUMNS = ['id', 'scope', 'label', 'created_at', 'last_used_at', 'revoked_at']

/** A call: method, path, body, and how to show the answer when not --json. */
interface Call {
  method: string
  path: string
  body?: unknown
  show: (answer: any) => string[]
  /** A side effect on success (writing a file), also with --json. */
  write?: (answer: any) => void
}

function plan(positionals: string[], flags: Record<string, any>): Call {
  const [group, action, ...rest] = positionals
  const id = (name: string) => {
    if (!rest[0]) throw new UsageError(`${group} ${action} needs ${name}`)
    return encodeURIComponent(rest[0])
  }
  const one = (key: string, columns: string[]) => (a: any) => table([a[key]], columns)
  switch (`${group} ${action ?? ''}`.trim()) {
    case 'account create':
      return {
        method: 'POST', path: '/v1/accounts', body: { name: flags.name ?? 'My account' },
        show: (a) => [...table([a.account], ['id', 'name', 'created_at']), '', 'First admin key (the secret is shown only now):', ...table([a.key], ['id', 'scope', 'secret'])],
      }
    case 'account get':
      return { method: 'GET', path: '/v1/account', show: (a) => table([a.account], ['id', 'name', 'created_at', 'public_key']) }
    case 'key create':
      if (!flags.scope) throw new UsageError('key create needs --scope admin|client')
      return {
        method: 'POST', path: '/v1/keys', body: { scope: flags.scope, ...(flags.label ? { label: flags.label } : {}) },
        show: (a) => [...table([a.key], ['id', 'scope', 'label', 'secret']), '', 'The secret is shown only now.'],
      }
    case 'key list':
      return { method: 'GET', path: '/v1/keys', show: (a) => table(a.data, KEY_COLUMNS) }
    case 'key revoke':
      return { method: 'DELETE', path: `/v1/keys/${id('KEY_ID')}`, show: one('key', KEY_COLUMNS) }
    case 'license create': {
      const body: Record<string, unknown> = {}
      if (flags.key) body.key = flags.key
      if (flags.name) body.name = flags.name
      if (flags['expires-at']) body.expires_at = flags['expires-at']
      if (flags['max-machines']) body.max_machines = Number(flags['max-machines'])
      if (flags.entitlement) body.entitlements = flags.entitlement
      if (flags.metadata) body.metadata = JSON.parse(flags.metadata)
      return { method: 'POST', path: '/v1/licenses', body, show: one('license', LICENSE_COLUMNS) }
    }
    case 'license get':
      return { method: 'GET', path: `/v1/licenses/${id('ID')}`, show: one('license', LICENSE_COLUMNS) }
    case 'license list': {
      const query = new URLSearchParams()
      for (const name of ['limit', 'cursor', 'status']) if (flags[name]) query.set(name, flags[name])
      const qs = query.toString()
      return {
        method: 'GET', path: `/v1/licenses${qs ? `?${qs}` : ''}`,
        show: (a) => [...table(a.data, LICENSE_COLUMNS), ...(a.next_cursor ? ['', `More: --cursor ${a.next_cursor}`] : [])],
      }
    }
    case 'license suspend':
    case 'license reinstate':
      return { method: 'POST', path: `/v1/licenses/${id('ID')}/${action}`, show: one('license', LICENSE_COLUMNS) }
    case 'license revoke':
      return { method: 'DELETE', path: `/v1/licenses/${id('ID')}`, show: one('license', LICENSE_COLUMNS) }
    default:
      break
  }
  if (group === 'validate') {
    if (!action) throw new UsageError('validate needs a license KEY')
    const body: Record<string, unknown> = { key: action }
    if (flags.fingerprint) body.fingerprint = flags.fingerprint
    if (flags.entitlement) body.entitlements = flags.entitlement
    return {
      method: 'POST', path: '/v1/licenses/validate', body,
      show: (a) => [`${a.valid ? 'valid' : 'not valid'}: ${a.code}`, ...(a.license ? table([a.license], LICENSE_COLUMNS) : [])],
    }
  }
  if (group === 'checkout') {
    if (!action) throw new UsageError('checkout needs a license KEY')
    const body: Record<string, unknown> = { key: action }
    if (flags.fingerprint) body.fingerprint = flags.fingerprint
    if (flags.ttl) body.ttl_seconds = Number(flags.ttl)
    return {
      method: 'POST', path: '/v1/licenses/checkout', body,
      show: (a) => (flags.out ? [`License file written to ${flags.out} (expires ${a.expires_at}).`] : [a.file.trimEnd()]),
      write: flags.out ? (a) => writeFileSync(flags.out, a.file) : undefined,
    }
  }
  if (group === 'request') {
    const [path, body] = rest
    if (!action || !path) throw new UsageError('request needs METHOD and PATH')
    return { method: action.toUpperCase(), path, body: body === undefined ? undefined : body, show: (a) => [JSON.stringify(a, null, 2)] }
  }
  throw new UsageError(positionals.length ? `unknown command: ${positionals.join(' ')}` : 'no command')
}

/** `verify-file`: offline, with the public key only; exit 0 for VALID, 1 otherwise. */
async function verifyFile(file: string | undefined, flags: Record<string, any>, io: CliIo): Promise<number> {
  if (!file) throw new UsageError('verify-file needs a FILE')
  const publicKey = flags['public-key'] ?? io.env.KEYSTACK_PUBLIC_KEY
  if (!publicKey) throw new UsageError('verify-file needs --public-key (or KEYSTACK_PUBLIC_KEY)')
  const result = await verifyLicenseFile(readFileSync(file, 'utf8'), publicKey, { fingerprint: flags.fingerprint })
  if (flags.json) io.out(JSON.stringify(result))
  else {
    io.out(`${result.valid ? 'valid' : 'not valid'}: ${result.code}`)
    if (result.payload) io.out(`license ${result.payload.license.key} (${result.payload.license.id}), file expires ${result.payload.expires_at}`)
  }
  return result.valid ? 0 : 1
}

/** Runs the CLI; resolves with the exit code. */
export async function run(argv: string[], io: CliIo): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string' }, 'key-id': { type: 'string' }, secret: { type: 'string' }, json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' }, name: { type: 'string' }, scope: { type: 'string' }, label: { type: 'string' },
        key: { type: 'string' }, 'expires-at': { type: 'string' }, 'max-machines': { type: 'string' },
        entitlement: { type: 'string', multiple: true }, metadata: { type: 'string' }, limit: { type: 'string' },
        cursor: { type: 'string' }, status: { type: 'string' }, fingerprint: { type: 'string' },
        ttl: { type: 'string' }, out: { type: 'string' }, 'public-key': { type: 'string' },
      },
    })
  } catch (err) {
    io.err(`keystack: ${err instanceof Error ? err.message : String(err)}`)
    return 2
  }
  const { values: flags, positionals } = parsed
  if (flags.help || positionals.length === 0) {
    ;(flags.help ? io.out : io.err)(USAGE)
    return flags.help ? 0 : 2
  }
  try {
    if (positionals[0] === 'verify-file') return await verifyFile(positionals[1], flags, io)
    const call = plan(positionals, flags)
    // With the vendor's public key (flag or KEYSTACK_PUBLIC_KEY), every answer's signature is checked too.
    const publicKey = (flags['public-key'] as string | undefined) ?? io.env.KEYSTACK_PUBLIC_KEY
    const client = new KeyStack({ ...credentials(flags, io), fetch: io.fetch, ...(publicKey ? { publicKey } : {}) })
    const answer = await client.requestRaw(call.method, call.path, call.body)
    call.write?.(JSON.parse(answer.text))
    if (flags.json) io.out(answer.text)
    else for (const line of call.show(JSON.parse(answer.text))) io.out(line)
    return 0
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`keystack: ${err.message} (keystack --help)`)
      return 2
    }
    if (err instanceof KeyStackError) {
      io.err(`keystack: ${err.code}: ${err.message}${err.requestId ? ` (request ${err.requestId})` : ''}`)
      for (const d of err.details ?? []) io.err(`  ${d.path || '(body)'}: ${d.message}`)
      return 1
    }
    if (err instanceof SyntaxError) {
      io.err(`keystack: not JSON: ${err.message}`)
      return 2
    }
    throw err
  }
}
