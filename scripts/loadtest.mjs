// `npm run loadtest`: a bounded soak against the real local server, started the README way
// (scripts/start.mjs, with its own port and state folder), on loopback only.
//
// Round 1 (LOADTEST_SECONDS, default 60): CONCURRENCY clients create licenses, activate machines,
// validate, and replay already-accepted requests on purpose. Then every acknowledged write is
// checked: each license and machine the server confirmed is stored; no replay was accepted; no
// answer was a 5xx.
// Round 2: the same traffic; halfway through, the server's whole process group is killed (SIGKILL)
// and restarted. Then again: every write acknowledged before the crash is stored, and replays of
// pre-crash signatures are still refused.
import { randomBytes } from 'node:crypto'
import { signRequest } from '../dist/client/index.js'
import { LocalServer } from './local-server.mjs'

const SECONDS = Number(process.env.LOADTEST_SECONDS || 60)
const ROUND2_SECONDS = Number(process.env.LOADTEST_ROUND2_SECONDS || Math.min(20, SECONDS))
const CONCURRENCY = Number(process.env.LOADTEST_CONCURRENCY || 16)
const log = (...args) => console.log('[loadtest]', ...args)

const server = new LocalServer()
const failures = []
const stats = { requests: 0, byStatus: {}, fiveXX: 0, networkErrors: 0, replaysSent: 0, replaysAccepted: 0 }
/** Acknowledged writes: licenses and machines the server answered 2xx for. */
const licenses = []
const machines = []
/** Raw copies of accepted (2xx) requests, to replay. */
const accepted = []

/** Signs and sends; keeps a raw copy so the exact request can be replayed. */
async function signed(creds, method, path, body) {
  const url = server.url + path
  const text = body === undefined ? undefined : JSON.stringify(body)
  const headers = { ...(await signRequest({ method, url, body: text, ...creds })), 'Content-Type': 'application/json' }
  return sendRaw({ method, url, headers, body: text })
}

async function sendRaw(raw) {
  stats.requests++
  let res
  let text
  try {
    res = await fetch(raw.url, { method: raw.method, headers: raw.headers, body: raw.body })
    text = await res.text()
  } catch {
    // No (whole) answer: the write is not acknowledged. Only expected while the server is killed.
    stats.networkErrors++
    return { status: 0, json: null, raw }
  }
  stats.byStatus[res.status] = (stats.byStatus[res.status] ?? 0) + 1
  if (res.status >= 500) stats.fiveXX++
  let json = null
  try {
    json = JSON.parse(text)
  } catch {
    // counted by status
  }
  if (res.status < 300 && accepted.length < 5000) accepted.push(raw)
  return { status: res.status, json, raw }
}

const pick = (list) => list[Math.floor(Math.random() * list.length)]

async function oneOperation(client, admin) {
  const roll = Math.random()
  if (roll < 0.2 || licenses.length === 0) {
    const res = await signed(admin, 'POST', '/v1/licenses', { name: `load ${randomBytes(4).toString('hex')}`, max_machines: 5 })
    if (res.status === 201) licenses.push({ id: res.json.license.id, key: res.json.license.key })
  } else if (roll < 0.45) {
    const license = pick(licenses)
    const fingerprint = `fp-${randomBytes(6).toString('hex')}`
    const res = await signed(client, 'POST', '/v1/licenses/activate', { key: license.key, fingerprint })
    if (res.status === 201) machines.push({ licenseId: license.id, fingerprint, id: res.json.machine.id })
  } else if (roll < 0.8) {
    const res = await signed(client, 'POST', '/v1/licenses/validate', { key: pick(licenses).key })
    if (res.status === 200 && !res.json.valid) failures.push(`a stored license did not validate: ${res.json.code}`)
  } else if (accepted.length > 0) {
    stats.replaysSent++
    const res = await sendRaw(pick(accepted))
    if (res.status >= 200 && res.status < 300) stats.replaysAccepted++
  }
}

async function traffic(seconds, client, admin, { stopWhen } = {}) {
  const deadline = Date.now() + seconds * 1000
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < deadline && !(stopWhen && stopWhen())) await oneOperation(client, admin)
    }),
  )
}

/** Checks that every acknowledged write is stored, with bounded concurrency. */
async function verifyWrites(admin, label) {
  const missing = []
  const machinesByLicense = new Map()
  for (const m of machines) machinesByLicense.set(m.licenseId, [...(machinesByLicense.get(m.licenseId) ?? []), m])
  const queue = [...licenses]
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let license = queue.shift(); license; license = queue.shift()) {
        const got = await signed(admin, 'GET', `/v1/licenses/${license.id}`)
        if (got.status !== 200 || got.json.license.key !== license.key) missing.push(`license ${license.id} (${got.status})`)
        const expected = machinesByLicense.get(license.id)
        if (!expected) continue
        const list = await signed(admin, 'GET', `/v1/licenses/${license.id}/machines`)
        const stored = new Set((list.json?.data ?? []).map((m) => m.id))
        for (const m of expected) if (!stored.has(m.id)) missing.push(`machine ${m.id}`)
      }
    }),
  )
  log(`${label}: ${licenses.length} acknowledged licenses and ${machines.length} acknowledged machines checked, ${missing.length} missing`)
  for (const m of missing.slice(0, 10)) failures.push(`${label}: acknowledged but not stored: ${m}`)
  if (missing.length > 10) failures.push(`${label}: … and ${missing.length - 10} more missing`)
}

async function replayAll(requests, label) {
  let accepted2xx = 0
  const outcomes = {}
  for (const raw of requests) {
    const res = await sendRaw(raw)
    const code = res.json?.error?.code ?? String(res.status)
    outcomes[code] = (outcomes[code] ?? 0) + 1
    if (res.status >= 200 && res.status < 300) accepted2xx++
  }
  log(`${label}: replayed ${requests.length} accepted requests: ${JSON.stringify(outcomes)}`)
  if (accepted2xx) failures.push(`${label}: ${accepted2xx} replays were accepted`)
}

try {
  log(`starting the server the README way (scripts/start.mjs), ${CONCURRENCY} clients, ${SECONDS} s + ${ROUND2_SECONDS} s`)
  await server.start()
  const operator = server.operator()
  const created = await signed(operator, 'POST', '/v1/accounts', { name: 'Load Co' })
  const admin = { keyId: created.json.key.id, secret: created.json.key.secret }
  const clientKey = (await signed(admin, 'POST', '/v1/keys', { scope: 'client' })).json.key
  const client = { keyId: clientKey.id, secret: clientKey.secret }

  // Round 1.
  const started = Date.now()
  await traffic(SECONDS, client, admin)
  const elapsed = (Date.now() - started) / 1000
  log(`round 1: ${stats.requests} requests in ${elapsed.toFixed(1)} s (${(stats.requests / elapsed).toFixed(0)} req/s), statuses ${JSON.stringify(stats.byStatus)}, ${stats.replaysSent} replays sent, ${stats.replaysAccepted} accepted, ${stats.fiveXX} 5xx, ${stats.networkErrors} network errors`)
  if (stats.networkErrors) failures.push(`round 1: ${stats.networkErrors} network errors`)
  await verifyWrites(admin, 'round 1')

  // Round 2, with a crash in the middle.
  const fiveXXBefore = stats.fiveXX
  let crashed = false
  const crash = (async () => {
    await new Promise((r) => setTimeout(r, (ROUND2_SECONDS * 1000) / 2))
    log('killing the server (SIGKILL to its process group) in the middle of round 2')
    crashed = true
    await server.stop('SIGKILL')
  })()
  await traffic(ROUND2_SECONDS, client, admin, { stopWhen: () => crashed })
  await crash
  const preCrash = accepted.slice(-300)
  log('restarting the server on the same state')
  await server.start()
  await verifyWrites(admin, 'after the crash')
  await replayAll(preCrash, 'after the crash')
  if (stats.fiveXX - fiveXXBefore > 0) failures.push(`round 2: ${stats.fiveXX - fiveXXBefore} answers were 5xx before the crash`)
  if (fiveXXBefore) failures.push(`round 1: ${fiveXXBefore} answers were 5xx`)
  if (stats.replaysAccepted) failures.push(`${stats.replaysAccepted} replays were accepted during the traffic`)
} catch (err) {
  failures.push(`load test aborted: ${err instanceof Error ? err.stack : String(err)}`)
} finally {
  await server.dispose()
}

log(`total: ${stats.requests} requests, statuses ${JSON.stringify(stats.byStatus)}`)
if (failures.length) {
  console.log('\nLOAD TEST FAILED:')
  for (const f of failures) console.log(`- ${f}`)
  process.exit(1)
}
console.log('\nLOAD TEST PASSED: every acknowledged write stored (also after a crash), no replay accepted, no 5xx.')
