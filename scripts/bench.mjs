// `npm run bench`: what a signed request costs, measured in the local workerd runtime.
// The Worker runs under Miniflare directly (no `wrangler dev` proxy in front), with D1 and Durable
// Object storage persisted to a temporary folder as `npm start` does. A closed-loop load generator
// in this process keeps CONCURRENCY requests in flight; every signed request is pre-signed and
// unique. CPU per request is read from the workerd process's own counters (/proc/PID/stat).
//
// Options (environment): BENCH_SECONDS (per phase, default 8), BENCH_CONCURRENCY (default 50),
// BENCH_OUT (default bench-results/bench.json).
import { execFileSync, execSync } from 'node:child_process'
import { createHmac, randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { build } from 'esbuild'
import { convertV4MiniflareOptions, Miniflare } from 'miniflare'

const root = path.resolve(import.meta.dirname, '..')
const SECONDS = Number(process.env.BENCH_SECONDS || 8)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY || 50)
const OUT = path.resolve(root, process.env.BENCH_OUT || 'bench-results/bench.json')
const GROWTH_LICENSES = Number(process.env.BENCH_GROWTH_LICENSES || 100_000)

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
const work = mkdtempSync(path.join(tmpdir(), 'keystack-bench-'))
const log = (...args) => console.error('[bench]', ...args)

// 1. Bundle the bench worker (the production app plus bench-only routes).
const script = path.join(work, 'worker.js')
await build({
  entryPoints: [path.join(root, 'bench/worker.ts')],
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  conditions: ['workerd', 'worker', 'browser'],
  mainFields: ['module', 'main'],
  external: ['cloudflare:*', 'node:*'],
  outfile: script,
  logLevel: 'warning',
})

// 2. Start it in workerd through Miniflare, with the project's configuration.
const toml = readFileSync(path.join(root, 'wrangler.toml'), 'utf8')
const compatibilityDate = toml.match(/compatibility_date\s*=\s*"([^"]+)"/)[1]
const operator = { keyId: `key_op_${randomBytes(9).toString('base64url')}`, secret: `kss_${randomBytes(32).toString('base64url')}` }
const mf = new Miniflare(
  convertV4MiniflareOptions({
    host: '127.0.0.1',
    port: 0,
    logRequests: false,
    rootPath: work,
    defaultPersistRoot: path.join(work, 'state'),
    modules: true,
    scriptPath: script,
    compatibilityDate,
    d1Databases: { DB: 'keystack-bench' },
    durableObjects: { REPLAY_SHARD: { className: 'ReplayShard', useSQLite: true } },
    bindings: {
      KEYSTACK_MASTER_KEY: randomBytes(32).toString('base64url'),
      KEYSTACK_OPERATOR_KEY_ID: operator.keyId,
      KEYSTACK_OPERATOR_SECRET: operator.secret,
      KEYSTACK_REPLAY_SHARD_LAYOUT: 'hex2',
      KEYSTACK_REPLAY_SHARD_LAYOUT_PREVIOUS: '',
      KEYSTACK_REPLAY_TIMEOUT_MS: '2000',
    },
  }),
)
const base = (await mf.ready).toString().replace(/\/$/, '')
const db = await mf.getD1Database('DB')
for (const file of readdirSync(path.join(root, 'migrations')).sort()) {
  const sql = readFileSync(path.join(root, 'migrations', file), 'utf8').replace(/--.*$/gm, '')
  const statements = sql.split(';').map((s) => s.trim()).filter(Boolean)
  await db.batch(statements.map((s) => db.prepare(s)))
}
const workerdPid = findWorkerd()
log(`worker on ${base}, workerd pid ${workerdPid}, ${CONCURRENCY} connections, ${SECONDS} s per phase`)

// 3. An account, a client key and licenses.
const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY })
const url = new URL(base)
const signV2 = (creds, method, pathAndQuery, body) => {
  const ts = String(Math.floor(Date.now() / 1000))
  const nonce = randomBytes(12).toString('base64url')
  const sig = createHmac('sha256', creds.secret).update(`v2\n${ts}\n${nonce}\n${method}\n${pathAndQuery}\n${creds.keyId}\n`).update(body).digest('hex')
  return { 'X-KeyStack-Key': creds.keyId, 'X-KeyStack-Timestamp': ts, 'X-KeyStack-Nonce': nonce, 'X-KeyStack-Signature': `v2=${sig}` }
}
const call = async (creds, method, p, body = '') => {
  const res = await send({ method, path: p, headers: { ...signV2(creds, method, p, body), 'Content-Type': 'application/json' }, body })
  if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${res.body}`)
  return JSON.parse(res.body)
}
const created = await call(operator, 'POST', '/v1/accounts', JSON.stringify({ name: 'Bench Co' }))
const accountId = created.account.id
const admin = { keyId: created.key.id, secret: created.key.secret }
const clientKey = (await call(admin, 'POST', '/v1/keys', JSON.stringify({ scope: 'client' }))).key
const client = { keyId: clientKey.id, secret: clientKey.secret }
const licenseKeys = await seedLicenses(0, 1000)
log(`seeded account ${accountId} with ${licenseKeys.length} licenses`)

// 4. The phases.
const randomHex = () => randomBytes(32).toString('hex')
const pick = (list) => list[Math.floor(Math.random() * list.length)]
const validateBody = () => JSON.stringify({ key: pick(licenseKeys) })
const signedValidate = () => {
  const body = validateBody()
  return { method: 'POST', path: '/v1/licenses/validate', headers: { ...signV2(client, 'POST', '/v1/licenses/validate', body), 'Content-Type': 'application/json' }, body }
}
const phases = {
  bare: () => ({ method: 'GET', path: '/health' }),
  floor: () => {
    const key = pick(licenseKeys)
    return { method: 'POST', path: `/__bench/floor?account=${accountId}&key=${key}`, headers: { 'X-Bench-Signature': randomHex() }, body: JSON.stringify({ key }) }
  },
  signed: signedValidate,
  rejected: () => {
    const req = signedValidate()
    req.headers['X-KeyStack-Signature'] = `v2=${randomHex()}`
    return req
  },
  // Context for `rejected`: an unsigned POST with the same body to a path outside /v1 (404, no
  // auth work at all). The difference to `bare` is what a request body costs the runtime.
  bare_post: () => ({ method: 'POST', path: '/not-a-route', headers: { 'Content-Type': 'application/json' }, body: validateBody() }),
  replay_one_shard: () => ({ method: 'POST', path: '/__bench/replay?shards=one', headers: { 'X-Bench-Signature': randomHex() } }),
  replay_all_shards: () => ({ method: 'POST', path: '/__bench/replay?shards=all', headers: { 'X-Bench-Signature': randomHex() } }),
}
const expected = { bare_post: 404, bare: 200, floor: 200, signed: 200, rejected: 401, replay_one_shard: 200, replay_all_shards: 200 }

log('warming up')
await runPhase('warmup', phases.bare, 2, 200)
await runPhase('warmup', phases.signed, 2, 200)
await runPhase('warmup', phases.floor, 2, 200)

// Each phase runs in ROUNDS slices, interleaved with the other phases, so that drift in the machine's
// speed (other processes, CPU frequency) falls on every phase alike rather than on one.
const ROUNDS = Number(process.env.BENCH_ROUNDS || 3)
const slices = Object.fromEntries(Object.keys(phases).map((name) => [name, []]))
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, make] of Object.entries(phases)) slices[name].push(await runPhase(name, make, SECONDS / ROUNDS, expected[name]))
}
const results = Object.fromEntries(Object.entries(slices).map(([name, parts]) => [name, combine(parts)]))
for (const [name, r] of Object.entries(results)) log(format(name, r))

// 5. Growth: validate latency with 1,000 and with GROWTH_LICENSES licenses in the account.
const growth = { licenses_1000: await runPhase('growth', signedValidate, Math.min(SECONDS, 5), 200) }
log(`seeding to ${GROWTH_LICENSES} licenses`)
licenseKeys.push(...(await seedLicenses(1000, GROWTH_LICENSES)))
growth[`licenses_${GROWTH_LICENSES}`] = await runPhase('growth', signedValidate, Math.min(SECONDS, 5), 200)

// 6. What one answer signature (Ed25519, validate-sized body) costs the runtime.
const SIGNS = 20000
const signCpuBefore = cpuTicks()
await send({ method: 'POST', path: `/__bench/sign?n=${SIGNS}` })
const signing = { signatures: SIGNS, cpu_ms_per_signature: ((cpuTicks() - signCpuBefore) * 1000) / CLK_TCK / SIGNS }

// 7. Balance of 100,000 random signatures over the default 256 shards.
const counts = new Map()
for (let i = 0; i < 100_000; i++) {
  const shard = randomBytes(1).toString('hex')
  counts.set(shard, (counts.get(shard) ?? 0) + 1)
}
const mean = 100_000 / 256
const balance = { signatures: 100_000, shards: counts.size, max: Math.max(...counts.values()), min: Math.min(...counts.values()), mean, max_over_mean: Math.max(...counts.values()) / mean }

// 8. Report.
const summary = {
  signed_vs_floor: results.signed.rps / results.floor.rps,
  rejected_vs_bare: results.rejected.rps / results.bare.rps,
  overhead_cpu_ms: results.signed.cpu_ms_per_request - results.floor.cpu_ms_per_request,
}
console.log(`\nKeyStack benchmark: workerd via Miniflare (no wrangler dev proxy), ${CONCURRENCY} connections, ${SECONDS} s per phase\n`)
console.log(table([['phase', 'req/s', 'p50 ms', 'p99 ms', 'CPU ms/req', 'requests', 'unexpected'], ...Object.entries(results).map(([n, r]) => row(n, r))]))
console.log('\nGrowth (signed validate):')
console.log(table([['licenses in account', 'req/s', 'p50 ms', 'p99 ms', 'CPU ms/req', 'requests', 'unexpected'], ...Object.entries(growth).map(([n, r]) => row(n.replace('licenses_', ''), r))]))
console.log(`\nAnswer signing (Ed25519, ${SIGNS} signatures of a validate-sized answer): ${signing.cpu_ms_per_signature.toFixed(3)} CPU ms each`)
console.log(`\nShard balance: ${balance.signatures} random signatures over ${balance.shards} shards: max ${balance.max}, min ${balance.min}, mean ${mean.toFixed(1)}, max/mean ${balance.max_over_mean.toFixed(3)}`)
mkdirSync(path.dirname(OUT), { recursive: true })
const strip = (r) => Object.fromEntries(Object.entries(r).map(([n, { raw, ...rest }]) => [n, rest]))
writeFileSync(OUT, JSON.stringify({ date: new Date().toISOString(), seconds_per_phase: SECONDS, rounds: ROUNDS, concurrency: CONCURRENCY, cpus: cpuCount(), results: strip(results), growth: strip(growth), signing, balance, summary }, null, 2))
console.log(`\nWritten to ${path.relative(root, OUT)}`)
console.log(`(context: rejected_vs_bare_post=${(results.rejected.rps / results.bare_post.rps).toFixed(3)}: the auth layer's own share of a rejection)`)
console.log(`signed_vs_floor=${summary.signed_vs_floor.toFixed(3)} rejected_vs_bare=${summary.rejected_vs_bare.toFixed(3)} overhead_cpu_ms=${summary.overhead_cpu_ms.toFixed(3)}`)

agent.destroy()
await mf.dispose()
rmSync(work, { recursive: true, force: true })

// --- helpers ---

function send({ method, path: p, headers = {}, body }) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method, path: p, headers, agent }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** Closed loop: CONCURRENCY workers send requests made by `make` for `seconds`. */
async function runPhase(name, make, seconds, expectStatus) {
  // Prepare requests up front, so signing is not the client's bottleneck.
  const pool = Array.from({ length: Math.min(200_000, Math.ceil(seconds * 6000)) }, make)
  let next = 0
  const latencies = []
  let unexpected = 0
  const cpuBefore = cpuTicks()
  const clientBefore = process.cpuUsage()
  const started = process.hrtime.bigint()
  const deadline = started + BigInt(Math.round(seconds * 1e9))
  const worker = async () => {
    while (process.hrtime.bigint() < deadline && next < pool.length) {
      const req = pool[next++]
      const t0 = process.hrtime.bigint()
      try {
        const res = await send(req)
        if (res.status !== expectStatus) unexpected++
      } catch {
        unexpected++
      }
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6)
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9
  const cpu = cpuTicks() - cpuBefore
  const client = process.cpuUsage(clientBefore)
  return summarise({ latencies, elapsed, cpuMs: (cpu * 1000) / CLK_TCK, clientCpuS: (client.user + client.system) / 1e6, unexpected })
}

function summarise(raw) {
  const sorted = [...raw.latencies].sort((a, b) => a - b)
  const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]
  return {
    requests: sorted.length,
    rps: sorted.length / raw.elapsed,
    p50_ms: q(0.5),
    p99_ms: q(0.99),
    cpu_ms_per_request: raw.cpuMs / sorted.length,
    client_cpu_share: raw.clientCpuS / raw.elapsed,
    unexpected: raw.unexpected,
    raw,
  }
}

/** Sums the slices of a phase. */
function combine(parts) {
  const total = summarise({
    latencies: parts.flatMap((p) => p.raw.latencies),
    elapsed: parts.reduce((a, p) => a + p.raw.elapsed, 0),
    cpuMs: parts.reduce((a, p) => a + p.raw.cpuMs, 0),
    clientCpuS: parts.reduce((a, p) => a + p.raw.clientCpuS, 0),
    unexpected: parts.reduce((a, p) => a + p.raw.unexpected, 0),
  })
  return total
}

/** Inserts licenses BENCH-<from>…BENCH-<to - 1> in one statement (a recursive CTE), returns their keys. */
async function seedLicenses(from, to) {
  const now = Date.now()
  await db
    .prepare(
      `WITH RECURSIVE n(i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?2)
       INSERT INTO licenses (id, account_id, key, status, entitlements, metadata, created_at, updated_at)
       SELECT 'lic_' || printf('%026d', i), ?3, 'BENCH-' || printf('%07d', i), 'active', '[]', '{}', ?4, ?4 FROM n`,
    )
    .bind(from, to, accountId, now)
    .run()
  return Array.from({ length: to - from }, (_, k) => `BENCH-${String(from + k).padStart(7, '0')}`)
}

function findWorkerd() {
  const out = execSync(`ps -eo pid=,ppid=,comm=`, { encoding: 'utf8' })
  const procs = out.trim().split('\n').map((l) => l.trim().split(/\s+/)).map(([pid, ppid, comm]) => ({ pid: Number(pid), ppid: Number(ppid), comm }))
  const descendants = new Set([process.pid])
  let grew = true
  while (grew) {
    grew = false
    for (const p of procs) if (descendants.has(p.ppid) && !descendants.has(p.pid)) descendants.add(p.pid), (grew = true)
  }
  const workerd = procs.find((p) => descendants.has(p.pid) && p.comm.startsWith('workerd'))
  if (!workerd) throw new Error('workerd process not found')
  return workerd.pid
}

function cpuTicks() {
  const fields = readFileSync(`/proc/${workerdPid}/stat`, 'utf8').split(') ')[1].split(' ')
  return Number(fields[11]) + Number(fields[12]) // utime + stime (fields 14 and 15 of stat)
}

function cpuCount() {
  return Number(execFileSync('nproc', { encoding: 'utf8' }).trim())
}

function row(name, r) {
  return [name, r.rps.toFixed(0), r.p50_ms.toFixed(2), r.p99_ms.toFixed(2), r.cpu_ms_per_request.toFixed(3), String(r.requests), String(r.unexpected)]
}

function format(name, r) {
  return `${name}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50_ms.toFixed(2)} ms, p99 ${r.p99_ms.toFixed(2)} ms, ${r.cpu_ms_per_request.toFixed(3)} CPU ms/req, load generator ${(r.client_cpu_share * 100).toFixed(0)}% of a core${r.unexpected ? `, ${r.unexpected} unexpected answers` : ''}`
}

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
  return rows.map((r, j) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ') + (j === 0 ? `\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : '')).join('\n')
}
