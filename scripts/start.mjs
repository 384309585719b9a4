// `npm start`: the API on http://127.0.0.1:8787 with local D1 and Durable Objects.
// First start: creates .dev.vars (random master key and operator credentials). Every start: applies
// the D1 migrations, then runs `wrangler dev`. Data lives in .wrangler/state and survives restarts.
// KEYSTACK_PORT and KEYSTACK_PERSIST_TO change the port and the state folder (the end-to-end tests use them).
import { spawn, spawnSync } from 'node:child_process'
import path from 'node:path'
import { ensureDevVars, root } from './dev-vars.mjs'

const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 22 || (major === 22 && minor < 12)) {
  console.error(`KeyStack needs Node 22.12 or newer (this is ${process.version}). Run it through npm (npm start), which uses the Node 22 from node_modules.`)
  process.exit(1)
}

const port = process.env.KEYSTACK_PORT || '8787'
const persist = process.env.KEYSTACK_PERSIST_TO ? ['--persist-to', process.env.KEYSTACK_PERSIST_TO] : []
const wrangler = path.join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js')
const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' }

const written = ensureDevVars()
if (written.length) console.log(`.dev.vars: generated ${written.join(', ')}.`)

const migrate = spawnSync(process.execPath, [wrangler, 'd1', 'migrations', 'apply', 'DB', '--local', ...persist], { cwd: root, env, stdio: 'inherit' })
if (migrate.status !== 0) process.exit(migrate.status ?? 1)

const dev = spawn(process.execPath, [wrangler, 'dev', '--ip', '127.0.0.1', '--port', port, '--show-interactive-dev-session=false', ...persist], {
  cwd: root,
  env,
  stdio: ['ignore', 'pipe', 'inherit'],
})

let announced = false
dev.stdout.on('data', (chunk) => {
  process.stdout.write(chunk)
  if (!announced && /Ready on/.test(String(chunk))) {
    announced = true
    console.log(
      `\nKeyStack is up on http://127.0.0.1:${port}. Make your first signed call (as the operator, from .dev.vars):\n` +
        `  npm run call -- POST /v1/accounts '{"name":"Acme"}'\n` +
        `The vendor dashboard: http://127.0.0.1:${port}/dashboard/signup\n` +
        `(README.md shows the same call with curl and openssl.)\n`,
    )
  }
})

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => dev.kill(signal))
dev.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
