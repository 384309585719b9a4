/** Every failure of the SDK: an API error answer, or a network failure after the retries. */
export class KeyStackError extends Error {
  /** HTTP status; 0 when no answer came (network failure). */
  readonly status: number
  /** The contract's stable code (`api/key-revoked`, `license/not-found`, …); branch on this. */
  readonly code: string
  /** The server's X-Request-Id, to quote in a support request. */
  readonly requestId: string | null
  /** For `api/validation-failed`: which fields were wrong. */
  readonly details?: { path: string; message: string }[]

  constructor(init: { status: number; code: string; message: string; requestId: string | null; details?: { path: string; message: string }[] }) {
    super(init.message)
    this.name = 'KeyStackError'
    this.status = init.status
    this.code = init.code
    this.requestId = init.requestId
    this.details = init.details
  }
}

/**
 * An answer that did not come from the vendor's KeyStack account: its response signature is
 * missing or wrong (a fake server, a proxy that changed it, a replayed recording). Never trust it.
 */
export class ResponseVerificationError extends KeyStackError {
  constructor(init: { status: number; code: 'client/response-signature-missing' | 'client/response-signature-invalid'; requestId: string | null }) {
    super({
      ...init,
      message:
        init.code === 'client/response-signature-missing'
          ? 'The answer carries no X-KeyStack-Response-Signature: it did not come from your KeyStack account.'
          : 'The answer does not match its X-KeyStack-Response-Signature: it was forged, changed or replayed.',
    })
    this.name = 'ResponseVerificationError'
  }
}
