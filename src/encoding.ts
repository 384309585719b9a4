import { decodeBase64Url, encodeBase64Url } from 'hono/utils/encode'

/** base64url without `=` padding (RFC 4648 section 5), as the contract uses it. */
export const toBase64Url = (bytes: Uint8Array | ArrayBuffer): string =>
  encodeBase64Url(bytes instanceof Uint8Array ? bytes.slice().buffer : bytes).replace(/=+$/, '')

/** Decodes base64url, padded or not; throws on anything else. */
export const fromBase64Url = (text: string): Uint8Array<ArrayBuffer> => {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(text)) throw new Error('not base64url')
  return decodeBase64Url(text)
}
