// The worker for browser tests: wrangler's unstable_startWorker on a free port, with a fresh local
// state folder that has the D1 migrations applied.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { unstable_startWorker } from 'wrangler'
// @ts-expect-error: plain JS module shared with `npm start`
import { ensureDevVars, root } from '../../scripts/dev-vars.mjs'

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

export async function startServer() {
  ensureDevVars()
  const persist = mkdtempSync(path.join(tmpdir(), 'keystack-browser-'))
  execFileSync(process.execPath, [path.join(root, 'node_modules/wrangler/bin/wrangler.js'), 'd1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persist], {
    cwd: root,
    env: { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false' },
    stdio: 'ignore',
  })
  const port = await freePort()
  const worker = await unstable_startWorker({
    config: path.join(root, 'wrangler.toml'),
    dev: { server: { hostname: '127.0.0.1', port }, inspector: false, watch: false, persist },
  })
  await worker.ready
  return {
    url: `http://127.0.0.1:${port}`,
    async dispose() {
      await worker.dispose()
      rmSync(persist, { recursive: true, force: true })
    },
  }
}
