#!/usr/bin/env node
// The `keystack` CLI. Uses the build (dist/, made by `npm ci` through `prepare`) when present,
// else the TypeScript source (Node 22.18+ strips types).
import { existsSync } from 'node:fs'

const built = new URL('../dist/cli/main.js', import.meta.url)
process.removeAllListeners('warning') // no "type stripping is experimental" line in the CLI's output
const { run } = await import(existsSync(built) ? built.href : new URL('../src/cli/main.ts', import.meta.url).href)
process.exitCode = await run(process.argv.slice(2), {
  env: process.env,
  cwd: process.cwd(),
  out: (line) => console.log(line),
  err: (line) => console.error(line),
})
