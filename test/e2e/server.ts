// Starts and stops the real local server as `npm start` does, on a free port with its own state folder.
import { spawn, type ChildProcess } from 'node:child_process'
import { createHmac, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
// @ts-expect-error: plain JS module shared with `npm start`
import { readDevVars, root } from '../../scripts/dev-vars.mjs'

export interface Creds {
  keyId: string
  secret: string
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    })
    srv.on('error', reject)
  })
}

export class LocalServer {
  readonly stateDir = mkdtempSync(path.join(tmpdir(), 'keystack-e2e-'))
  port = 0
  private child: ChildProcess | null = null
  log = ''

  get url() {
    return `http://127.0.0.1:${this.port}`
  }

  /** Runs scripts/start.mjs (what `npm start` runs) and waits until /health answers. */
  async start(): Promise<void> {
    if (!this.port) this.port = await freePort()
    const child = spawn(process.execPath, [path.join(root, 'scripts', 'start.mjs')], {
      cwd: root,
      env: { ...process.env, KEYSTACK_PORT: String(this.port), KEYSTACK_PERSIST_TO: this.stateDir },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    this.child = child
    child.stdout!.on('data', (d) => (this.log += d))
    child.stderr!.on('data', (d) => (this.log += d))
    const deadline = Date.now() + 60_000
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`server exited early:\n${this.log}`)
      try {
        const res = await fetch(`${this.url}/health`)
        if (res.ok) return
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 200))
    }
    throw new Error(`server did not start:\n${this.log}`)
  }

  /** Kills the whole process group (node, wrangler, workerd) and waits for it to go. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((r) => child.once('exit', r))
    try {
      process.kill(-child.pid!, signal)
    } catch {
      // already gone
    }
    await exited
    // Let workerd release the port.
    for (let i = 0; i < 50; i++) {
      try {
        await fetch(`${this.url}/health`)
      } catch {
        return
      }
      await new Promise((r) => setTimeout(r, 100))
    }
  }

  async dispose(): Promise<void> {
    await this.stop()
    rmSync(this.stateDir, { recursive: true, force: true })
  }

  operator(): Creds {
    const vars = readDevVars()
    return { keyId: vars.KEYSTACK_OPERATOR_KEY_ID, secret: vars.KEYSTACK_OPERATOR_SECRET }
  }
}

/** A request signed with v2 (fresh nonce) as the SDK will send it, built with Node's own crypto. */
export function signV2(creds: Creds, method: string, url: string, body = '', ts = Math.floor(Date.now() / 1000)): Request {
  const u = new URL(url)
  const nonce = randomBytes(12).toString('base64url')
  const sig = createHmac('sha256', creds.secret)
    .update(`v2\n${ts}\n${nonce}\n${method}\n${u.pathname}${u.search}\n${creds.keyId}\n`)
    .update(body)
    .digest('hex')
  return new Request(url, {
    method,
    headers: {
      'X-KeyStack-Key': creds.keyId,
      'X-KeyStack-Timestamp': String(ts),
      'X-KeyStack-Nonce': nonce,
      'X-KeyStack-Signature': `v2=${sig}`,
      'Content-Type': 'application/json',
    },
    body: body || undefined,
  })
}
