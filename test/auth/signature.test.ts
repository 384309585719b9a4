import { describe, expect, it } from 'vitest'
import vectors from '../../../shared/signing-vectors.json'
import {
  importHmacKey, isWithinSkew, parseNonce, parseSignatureHeader, parseTimestamp, sign, verifySignature,
} from '../../src/auth/signature'

const encoder = new TextEncoder()

describe('known-answer vectors of the contract', () => {
  for (const v of vectors.vectors) {
    const parts = { timestamp: String(v.ts), nonce: v.nonce, method: v.method, pathAndQuery: v.path, keyId: v.key_id, body: encoder.encode(v.body) }

    it(`v1 and v2: ${v.name}`, async () => {
      const key = await importHmacKey(vectors.secret)
      expect(await sign(key, 'v1', parts)).toBe(v.v1)
      expect(await sign(key, 'v2', parts)).toBe(v.v2)
    })

    it(`verifies the published forms and refuses a changed request: ${v.name}`, async () => {
      const key = await importHmacKey(vectors.secret)
      for (const header of [v.v1, `v1=${v.v1}`, v.v1.toUpperCase()]) {
        expect(await verifySignature(key, parseSignatureHeader(header)!, parts)).toBe(true)
      }
      const v2 = parseSignatureHeader(`v2=${v.v2}`)!
      expect(await verifySignature(key, v2, parts)).toBe(true)
      for (const change of [{ method: 'PUT' }, { pathAndQuery: v.path + 'x' }, { keyId: 'key_other' }, { nonce: 'other' }, { timestamp: String(v.ts + 1) }]) {
        expect(await verifySignature(key, v2, { ...parts, ...change })).toBe(false)
      }
      // v1 does not bind the method or path (its published trade-off) but does bind the body.
      expect(await verifySignature(key, parseSignatureHeader(v.v1)!, { ...parts, method: 'PUT' })).toBe(true)
      expect(await verifySignature(key, parseSignatureHeader(v.v1)!, { ...parts, body: encoder.encode(v.body + ' ') })).toBe(false)
    })
  }
})

describe('signature header', () => {
  const hex = 'ab'.repeat(32)
  it('accepts bare hex, v1= and v2=, in either case, and names the identity in lower case', () => {
    expect(parseSignatureHeader(hex)).toMatchObject({ scheme: 'v1', hex })
    expect(parseSignatureHeader(`v1=${hex.toUpperCase()}`)).toMatchObject({ scheme: 'v1', hex })
    expect(parseSignatureHeader(`v2=${hex}`)).toMatchObject({ scheme: 'v2', hex })
  })
  it.each(['', 'v3=' + hex, hex.slice(1), hex + '0', `v1=${hex},v2=${hex}`, `V1=${hex}`, 'zz'.repeat(32), `v2= ${hex}`])(
    'refuses %j',
    (value) => expect(parseSignatureHeader(value)).toBeNull(),
  )
})

describe('timestamp', () => {
  it.each(['0', '1', '1767225600', '9999999999'])('accepts %s', (v) => expect(parseTimestamp(v)).toEqual({ ok: true, seconds: Number(v) }))
  it.each(['', '-1', '+1', ' 1', '1.5', '1e9', '0x10', '12345678901', 'abc'])('refuses %j', (v) => expect(parseTimestamp(v).ok).toBe(false))
  it('recognises milliseconds', () => expect(parseTimestamp('1767225600000')).toEqual({ ok: false, looksLikeMilliseconds: true }))
  it('has a two-sided 300 s window', () => {
    expect(isWithinSkew(1000, 1300)).toBe(true)
    expect(isWithinSkew(1300, 1000)).toBe(true)
    expect(isWithinSkew(1000, 1301)).toBe(false)
    expect(isWithinSkew(1301, 1000)).toBe(false)
  })
})

describe('nonce', () => {
  it('is empty when absent or empty', () => {
    expect(parseNonce(undefined)).toBe('')
    expect(parseNonce('')).toBe('')
  })
  it.each(['a', 'n-1_A', 'x'.repeat(64)])('accepts %s', (v) => expect(parseNonce(v)).toBe(v))
  it.each(['x'.repeat(65), 'a b', 'a.b', 'é', 'a/b'])('refuses %j', (v) => expect(parseNonce(v)).toBeNull())
})
