/**
 * The KeyStack client SDK: WebCrypto and fetch only, no dependencies; runs on Node 18+, Deno, Bun,
 * browsers and Workers.
 *
 * ```ts
 * import { KeyStack } from 'keystack/client'
 * const ks = new KeyStack({ baseUrl, keyId, secret })
 * const { valid, code } = await ks.licenses.validate({ key, fingerprint })
 * ```
 */
export { KeyStack, type KeyStackOptions, type RawResponse, type RetryOptions } from './client.ts'
export { KeyStackError, ResponseVerificationError } from './errors.ts'
export { importPublicKey, verifyLicenseFile, verifyResponseSignature, type LicenseFileCode, type LicenseFilePayload, type LicenseFileResult } from './verify.ts'
export { randomNonce, signRequest, type SignRequestInput, type SignatureScheme } from './signing.ts'
export type * from './types.ts'
