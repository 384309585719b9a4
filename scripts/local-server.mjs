// Starts and stops the real local server as `npm start` does (scripts/start.mjs), on a free port and
// with a state folder of its own. Used by the end-to-end tests and `npm run loadtest`.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { readDevVars, root } from './dev-vars.mjs'

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
    srv.on('error', reject)
  })
}

export class LocalServer {
  stateDir = mkdtempSync(path.join(tmpdir(), 'keystack-local-'))
  port = 0
  log = ''
  /** @type {import('node:child_process').ChildProcess | null} */
  child = null

  get url() {
    return `http://127.0.0.1:${this.port}`
  }

  /** Runs scripts/start.mjs (what `npm start` runs) and waits until /health answers. */
  async start() {
    if (!this.port) this.port = await freePort()
    const child = spawn(process.execPath, [path.join(root, 'scripts', 'start.mjs')], {
      cwd: root,
      env: { ...process.env, KEYSTACK_PORT: String(this.port), KEYSTACK_PERSIST_TO: this.stateDir },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    this.child = child
    child.stdout.on('data', (d) => (this.log += d))
    child.stderr.on('data', (d) => (this.log += d))
    const deadline = Date.now() + 60_000
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`server exited early:\n${this.log}`)
      try {
        if ((await fetch(`${this.url}/health`)).ok) return
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 200))
    }
    throw new Error(`server did not start:\n${this.log}`)
  }

  /** Kills the whole process group (node, wrangler, workerd) and waits until the port is free. */
  async stop(signal = 'SIGKILL') {
    const child = this.child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((r) => child.once('exit', r))
    try {
      process.kill(-child.pid, signal)
    } catch {
      // already gone
    }
    await exited
    for (let i = 0; i < 50; i++) {
      try {
        await fetch(`${this.url}/health`)
      } catch {
        return
      }
      await new Promise((r) => setTimeout(r, 100))
    }
  }

  async dispose() {
    await this.stop()
    rmSync(this.stateDir, { recursive: true, force: true })
  }

  /** The operator key of `.dev.vars` (created by the first start). */
  operator() {
    const vars = readDevVars()
    return { keyId: vars.KEYSTACK_OPERATOR_KEY_ID, secret: vars.KEYSTACK_OPERATOR_SECRET }
  }
}
