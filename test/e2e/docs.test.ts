import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ERROR_CODES } from '../../src/errors'

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')

describe('README', () => {
  it('lists every error code the API can answer with, with its status', () => {
    for (const [code, [status]] of Object.entries(ERROR_CODES)) {
      expect(readme).toContain(`| ${status} | \`${code}\` |`)
    }
  })
  it('shows the two commands', () => {
    expect(readme).toContain('npm ci && npm start')
    expect(readme).toContain('npm ci && npm test')
  })
})
