import type { Context, ErrorHandler, NotFoundHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

/**
 * Every error code the API can answer with, its HTTP status and a default message.
 * The wire format is `{ "error": { "code", "message", "details"? } }` (contract section 3).
 */
export const ERROR_CODES = {
  'api/key-missing': [401, 'The X-KeyStack-Key header is missing.'],
  'api/key-unknown': [401, 'No API key has this key id.'],
  'api/key-revoked': [401, 'This API key was revoked. Use another key of the account.'],
  'api/timestamp-missing': [401, 'The X-KeyStack-Timestamp header is missing.'],
  'api/timestamp-invalid': [401, 'X-KeyStack-Timestamp must be Unix time in seconds: 1 to 10 decimal digits.'],
  'api/timestamp-skew': [401, 'X-KeyStack-Timestamp is more than 300 seconds away from the server time (see X-KeyStack-Server-Time).'],
  'api/signature-missing': [401, 'The X-KeyStack-Signature header is missing.'],
  'api/signature-malformed': [401, 'X-KeyStack-Signature must be 64 hex digits, v1=<hex> or v2=<hex>.'],
  'api/signature-mismatch': [401, 'The signature does not match the request. Sign the exact body bytes you send with the secret of this key.'],
  'api/timestamp-replay': [409, 'This signature was already used. Sign every request (and every retry) anew.'],
  'api/forbidden': [403, "This key's scope does not allow this endpoint."],
  'api/body-too-large': [413, 'The request body is larger than 64 KiB.'],
  'api/invalid-json': [400, 'The request body is not valid JSON.'],
  'api/validation-failed': [400, 'The request body does not have the expected shape.'],
  'api/not-found': [404, 'No such route.'],
  'api/replay-store-unavailable': [503, 'The replay store did not answer, so the request was refused. Retry with a new signature.'],
  'api/signing-unavailable': [503, 'The server could not sign its answer, so it gives none. Retry with a new signature.'],
  'api/internal': [500, 'Something unexpected went wrong. Retry later; quote the X-Request-Id if it persists.'],
  'key/not-found': [404, 'No such key in this account.'],
  'key/last-admin-key': [409, "This is the account's last active admin key. Create another admin key before revoking it."],
  'license/not-found': [404, 'No such license in this account.'],
  'license/key-taken': [409, 'This account already has a license with this key (keys are compared case-insensitively).'],
  'license/revoked': [422, 'This license was revoked; that is final.'],
  'license/suspended': [422, 'This license is suspended. The vendor can reinstate it.'],
  'license/expired': [422, 'This license has expired.'],
  'machine/limit-reached': [409, 'This license is active on as many machines as it allows. Deactivate one first.'],
  'machine/not-found': [404, 'No such machine (for this license).'],
} as const satisfies Record<string, readonly [ContentfulStatusCode, string]>

export type ErrorCode = keyof typeof ERROR_CODES

export interface ErrorDetail {
  path: string
  message: string
}

/** An error the client should see, with its contract code. Thrown anywhere; rendered by {@link handleError}. */
export class ApiError extends HTTPException {
  readonly code: ErrorCode
  readonly details?: ErrorDetail[]

  constructor(code: ErrorCode, message?: string, details?: ErrorDetail[]) {
    const [status, defaultMessage] = ERROR_CODES[code]
    // A refusal is an answer, not a bug: capturing a stack trace for each one would cost every
    // rejected request CPU for nothing.
    const stackTraceLimit = Error.stackTraceLimit
    Error.stackTraceLimit = 0
    super(status, { message: message ?? defaultMessage })
    Error.stackTraceLimit = stackTraceLimit
    this.code = code
    this.details = details
  }
}

export function errorBody(code: ErrorCode, message: string, details?: ErrorDetail[]) {
  return { error: details ? { code, message, details } : { code, message } }
}

/** Maps anything thrown to the contract's error. Hono's own HTTP failures keep their meaning. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err
  if (err instanceof HTTPException) {
    switch (err.status) {
      case 400:
        return new ApiError('api/invalid-json', 'The request body is not valid JSON.')
      case 403:
        return new ApiError('api/forbidden', 'This request was refused (it did not come from this site).')
      case 413:
        return new ApiError('api/body-too-large')
      case 415:
        return new ApiError('api/invalid-json', 'The request body must be JSON.')
    }
  }
  return new ApiError('api/internal')
}

/**
 * Drops an unread request body. workerd resets a keep-alive connection whose POST was answered
 * without its body being consumed, so every early refusal cancels it first.
 */
export function discardRequestBody(c: Context): void {
  const body = c.req.raw.body
  if (body && !c.req.raw.bodyUsed && !body.locked) body.cancel().catch(() => {})
}

/** The one error handler: every failure of every layer ends here. */
export const handleError: ErrorHandler = (err, c) => {
  const apiError = toApiError(err)
  if (apiError.code === 'api/internal') {
    // Log what went wrong for the operator; the client only sees the request id.
    console.error(`[${c.get('requestId') ?? '-'}] unexpected error:`, err instanceof Error ? err.stack ?? err.message : String(err))
  }
  discardRequestBody(c)
  return c.json(errorBody(apiError.code, apiError.message, apiError.details), apiError.status as ContentfulStatusCode)
}

export const handleNotFound: NotFoundHandler = (c) => handleError(new ApiError('api/not-found'), c)

declare global {
  interface ErrorConstructor {
    /** V8's limit on captured stack frames (workerd runs V8). */
    stackTraceLimit: number
  }
}
