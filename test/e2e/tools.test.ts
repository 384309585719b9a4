// `npm run bench` and `npm run loadtest`, in short runs: they must keep working from a fresh clone.
// (The full runs, and the figures, are in docs/performance.md.)
import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const execFileAsync = promisify(execFile)
/** Runs a tool; on failure, the error carries what it printed. */
async function run(file: string, args: string[], options: Parameters<typeof execFileAsync>[2]) {
  try {
    return await execFileAsync(file, args, { ...options, encoding: 'utf8' })
  } catch (err) {
    const e = err as { message: string; stdout?: string; stderr?: string }
    throw new Error(`${e.message}\n--- stdout ---\n${e.stdout ?? ''}\n--- stderr ---\n${e.stderr ?? ''}`)
  }
}
const root = path.resolve(import.meta.dirname, '../..')

describe('measuring tools, short runs', () => {
  it('npm run bench prints the table and the summary line, and meets no target by accident of a failed request', async () => {
    const { stdout } = await run(process.execPath, [path.join(root, 'scripts/bench.mjs')], {
      cwd: root,
      env: { ...process.env, BENCH_SECONDS: '1.5', BENCH_GROWTH_LICENSES: '3000', BENCH_OUT: 'test/e2e/.tmp/bench.json' },
      timeout: 180_000,
    })
    expect(stdout).toMatch(/^signed_vs_floor=\d+\.\d+ rejected_vs_bare=\d+\.\d+ overhead_cpu_ms=-?\d+\.\d+$/m)
    // Every phase got only the answers it expects (the "unexpected" column is all zeros).
    for (const phase of ['bare', 'floor', 'signed', 'rejected', 'replay_one_shard', 'replay_all_shards']) {
      expect(stdout).toMatch(new RegExp(`^${phase}\\s+\\d+\\s+[\\d.]+\\s+[\\d.]+\\s+[\\d.]+\\s+\\d+\\s+0$`, 'm'))
    }
  }, 200_000)

  it('npm run loadtest passes: acknowledged writes survive a crash, no replay accepted, no 5xx', async () => {
    const { stdout } = await run(process.execPath, [path.join(root, 'scripts/loadtest.mjs')], {
      cwd: root,
      env: { ...process.env, LOADTEST_SECONDS: '6', LOADTEST_ROUND2_SECONDS: '4' },
      timeout: 240_000,
    })
    expect(stdout).toContain('LOAD TEST PASSED')
    expect(stdout).toMatch(/after the crash: \d+ acknowledged licenses and \d+ acknowledged machines checked, 0 missing/)
    expect(stdout).toMatch(/after the crash: replayed \d+ accepted requests: \{"api\/timestamp-replay":\d+\}/)
  }, 260_000)
})
