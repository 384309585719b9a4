import { KeyStackError, ResponseVerificationError } from './errors.ts'
import { verifyResponseSignature } from './verify.ts'
import { signRequest, type SignatureScheme } from './signing.ts'
import type {
  Account, ActivateInput, ApiKey, CreateLicenseInput, KeyScope, License, ListLicensesInput, Machine, MachineInput,
  NewApiKey, Page, UpdateLicenseInput, ValidateInput, ValidationResult,
} from './types.ts'

export interface RetryOptions {
  /** Retries after the first attempt, on network errors, 429 and 503. Default 3. */
  retries?: number
  /** First back-off step in ms, doubled each time, with full jitter. Default 200. */
  baseDelayMs?: number
  /** Cap of one back-off step in ms. Default 5000. */
  maxDelayMs?: number
}

export interface KeyStackOptions {
  /** e.g. `https://keystack.example.com` or `http://127.0.0.1:8787`. */
  baseUrl: string
  keyId: string
  secret: string
  /** `v2` (default: binds method, path, key and a nonce) or `v1`. */
  scheme?: SignatureScheme
  retry?: RetryOptions
  /** The HTTP client; default the global `fetch`. */
  fetch?: typeof fetch
  /** The local clock in ms; default `Date.now`. Tests pass a double. */
  now?: () => number
  /** How to wait between retries; default `setTimeout`. */
  sleep?: (ms: number) => Promise<void>
  /**
   * The account's Ed25519 public key (`GET /v1/account`, `public_key`). With it, every answer's
   * X-KeyStack-Response-Signature is checked, and an answer without a valid one throws
   * {@link ResponseVerificationError}. Leave it out for the operator key (its answers are unsigned).
   */
  publicKey?: string
}

/** A raw answer: status, headers and the body text exactly as received. */
export interface RawResponse {
  status: number
  headers: Headers
  text: string
}

const RETRYABLE_STATUS = new Set([429, 503])
/**
 * Errors the server gives before it has verified the request's signature, so unsigned by design
 * (auth refusals, body too large, rate limits, the signing key missing). An unsigned answer with one
 * of these statuses is only ever an error, never trusted as a result.
 */
const UNSIGNED_ERROR_STATUS = new Set([401, 413, 429, 503])
/** Only a server clock this far from ours is worth correcting (the header has 1 s resolution). */
const SKEW_TOLERANCE_MS = 2_000

/**
 * The KeyStack API client. Signs every request (v2 with a fresh nonce by default), learns the
 * server's clock from `X-KeyStack-Server-Time`, retries network errors, 429 and 503 with capped,
 * jittered back-off (re-signed each time), and throws {@link KeyStackError} for every error answer.
 */
export class KeyStack {
  private readonly options: KeyStackOptions
  private readonly doFetch: typeof fetch
  private readonly now: () => number
  private readonly sleep: (ms: number) => Promise<void>
  /** Server time minus local time, in ms, as last learnt. */
  clockOffsetMs = 0

  constructor(options: KeyStackOptions) {
    this.options = { ...options, baseUrl: options.baseUrl.replace(/\/+$/, '') }
    this.doFetch = options.fetch ?? ((input, init) => fetch(input, init))
    this.now = options.now ?? Date.now
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)))
  }

  /** Operator scope. */
  readonly accounts = {
    /** Creates an account and its first admin key (the secret is in this answer only). */
    create: (input: { name: string }) => this.request<{ account: Account; key: NewApiKey }>('POST', '/v1/accounts', input, { idempotent: false }),
    /** Admin scope: the caller's account, with the `public_key` to bake into your app. */
    get: () => this.request<{ account: Account & { public_key: string } }>('GET', '/v1/account').then((r) => r.account),
  }

  /** Admin scope: rotation and the kill switch. */
  readonly keys = {
    create: (input: { scope: KeyScope; label?: string | null }) =>
      this.request<{ key: NewApiKey }>('POST', '/v1/keys', input, { idempotent: false }).then((r) => r.key),
    list: () => this.request<{ data: ApiKey[] }>('GET', '/v1/keys').then((r) => r.data),
    /** Revokes a key: it fails with `api/key-revoked` everywhere within 10 seconds. */
    revoke: (id: string) => this.request<{ key: ApiKey }>('DELETE', `/v1/keys/${encodeURIComponent(id)}`).then((r) => r.key),
  }

  readonly licenses = {
    /** Without your own `key`, a lost answer is not retried (it could make a second license). */
    create: (input: CreateLicenseInput = {}) =>
      this.request<{ license: License }>('POST', '/v1/licenses', input, { idempotent: input.key !== undefined }).then((r) => r.license),
    list: (input: ListLicensesInput = {}) => {
      const query = new URLSearchParams()
      if (input.limit !== undefined) query.set('limit', String(input.limit))
      if (input.cursor !== undefined) query.set('cursor', input.cursor)
      if (input.status !== undefined) query.set('status', input.status)
      const qs = query.toString()
      return this.request<Page<License>>('GET', `/v1/licenses${qs ? `?${qs}` : ''}`)
    },
    get: (id: string) => this.request<{ license: License }>('GET', `/v1/licenses/${encodeURIComponent(id)}`).then((r) => r.license),
    update: (id: string, input: UpdateLicenseInput) =>
      this.request<{ license: License }>('PATCH', `/v1/licenses/${encodeURIComponent(id)}`, input).then((r) => r.license),
    suspend: (id: string) => this.request<{ license: License }>('POST', `/v1/licenses/${encodeURIComponent(id)}/suspend`).then((r) => r.license),
    reinstate: (id: string) => this.request<{ license: License }>('POST', `/v1/licenses/${encodeURIComponent(id)}/reinstate`).then((r) => r.license),
    /** Revokes a license (final). */
    revoke: (id: string) => this.request<{ license: License }>('DELETE', `/v1/licenses/${encodeURIComponent(id)}`).then((r) => r.license),
    machines: (id: string) => this.request<{ data: Machine[] }>('GET', `/v1/licenses/${encodeURIComponent(id)}/machines`).then((r) => r.data),
    /** Client scope. Always resolves for a well-formed input: branch on `valid` and `code`. */
    validate: (input: ValidateInput) => this.request<ValidationResult>('POST', '/v1/licenses/validate', input),
    /** Client scope: an offline license file; check it with `verifyLicenseFile`. */
    checkout: (input: { key: string; fingerprint?: string; ttl_seconds?: number }) =>
      this.request<{ file: string; expires_at: string }>('POST', '/v1/licenses/checkout', input),
    /** Client scope. `created` is false when the fingerprint was already active (same machine). */
    activate: async (input: ActivateInput) => {
      const raw = await this.requestRaw('POST', '/v1/licenses/activate', input)
      const body = JSON.parse(raw.text) as { machine: Machine; license: License }
      return { ...body, created: raw.status === 201 }
    },
    deactivate: (input: MachineInput) => this.request<{ machine: Machine }>('POST', '/v1/licenses/deactivate', input).then((r) => r.machine),
    heartbeat: (input: MachineInput) => this.request<{ machine: Machine }>('POST', '/v1/licenses/heartbeat', input).then((r) => r.machine),
  }

  readonly machines = {
    delete: (id: string) => this.request<{ machine: Machine }>('DELETE', `/v1/machines/${encodeURIComponent(id)}`).then((r) => r.machine),
  }

  /** Any signed call; resolves with the parsed JSON answer, throws {@link KeyStackError} on an error answer. */
  async request<T = unknown>(method: string, path: string, body?: unknown, options?: { idempotent?: boolean }): Promise<T> {
    return JSON.parse((await this.requestRaw(method, path, body, options)).text) as T
  }

  /**
   * Any signed call; resolves with the answer as received (2xx), throws {@link KeyStackError} otherwise.
   * `idempotent: false` (creations) retries only answers that guarantee nothing was done (429, and
   * 503 from the replay store), never a network error, which may hide a done deed.
   */
  async requestRaw(method: string, path: string, body?: unknown, options: { idempotent?: boolean } = {}): Promise<RawResponse> {
    const idempotent = options.idempotent ?? true
    const url = this.options.baseUrl + path
    const text = body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body)
    const { retries = 3, baseDelayMs = 200, maxDelayMs = 5_000 } = this.options.retry ?? {}
    let skewRetried = false
    for (let attempt = 0; ; attempt++) {
      let res: Response
      let requestSignatureHex: string
      let bodyBytes: Uint8Array
      try {
        ;({ res, requestSignatureHex } = await this.send(method, url, text))
        bodyBytes = new Uint8Array(await res.arrayBuffer())
      } catch (err) {
        if (attempt < retries && idempotent) {
          await this.sleep(backoff(attempt, baseDelayMs, maxDelayMs))
          continue
        }
        throw new KeyStackError({ status: 0, code: 'client/network-error', message: `No answer from ${this.options.baseUrl}: ${err instanceof Error ? err.message : String(err)}`, requestId: null })
      }
      const skewBefore = this.clockOffsetMs
      this.learnClock(res)
      const answer: RawResponse = { status: res.status, headers: res.headers, text: new TextDecoder().decode(bodyBytes) }
      const error = res.ok ? null : toError(answer)
      if (this.options.publicKey) await this.checkSignature(answer, bodyBytes, requestSignatureHex)
      if (!error) return answer
      // A clock far off: learn the server's time and sign once more (not counted as a retry).
      if (error.code === 'api/timestamp-skew' && !skewRetried && this.clockOffsetMs !== skewBefore) {
        skewRetried = true
        attempt--
        continue
      }
      const safeToRetry = idempotent || res.status === 429 || error.code === 'api/replay-store-unavailable'
      if (RETRYABLE_STATUS.has(res.status) && attempt < retries && safeToRetry) {
        await this.sleep(retryAfterMs(res.headers, maxDelayMs) ?? backoff(attempt, baseDelayMs, maxDelayMs))
        continue
      }
      throw error
    }
  }

  /** Throws unless the answer carries a valid signature of the account key, bound to this request. */
  private async checkSignature(answer: RawResponse, body: Uint8Array, requestSignatureHex: string): Promise<void> {
    const signature = answer.headers.get('X-KeyStack-Response-Signature')
    const requestId = answer.headers.get('X-Request-Id')
    if (!signature) {
      if (answer.status >= 300 && UNSIGNED_ERROR_STATUS.has(answer.status)) return // an error either way; see UNSIGNED_ERROR_STATUS
      throw new ResponseVerificationError({ status: answer.status, code: 'client/response-signature-missing', requestId })
    }
    const ok = await verifyResponseSignature(this.options.publicKey!, { requestSignatureHex, status: answer.status, body, signature })
    if (!ok) throw new ResponseVerificationError({ status: answer.status, code: 'client/response-signature-invalid', requestId })
  }

  /** v1 binds only the timestamp and the body: the last timestamp used per body, so a v1 signature never repeats. */
  private readonly v1LastTimestamp = new Map<string, number>()

  private timestampFor(body: string | null): number {
    let ts = Math.floor((this.now() + this.clockOffsetMs) / 1000)
    if (this.options.scheme !== 'v1') return ts
    const key = body ?? ''
    const last = this.v1LastTimestamp.get(key)
    if (last !== undefined && ts <= last) ts = last + 1 // within the 300 s window for any sane rate
    if (this.v1LastTimestamp.size > 1000) this.v1LastTimestamp.clear()
    this.v1LastTimestamp.set(key, ts)
    return ts
  }

  /** Signs (afresh: new timestamp and nonce) and sends one attempt. */
  private async send(method: string, url: string, body: string | null): Promise<{ res: Response; requestSignatureHex: string }> {
    const headers = await signRequest({
      method,
      url,
      body,
      keyId: this.options.keyId,
      secret: this.options.secret,
      scheme: this.options.scheme,
      timestamp: this.timestampFor(body),
    })
    if (body !== null) headers['Content-Type'] = 'application/json'
    const requestSignatureHex = headers['X-KeyStack-Signature'].slice(3).toLowerCase()
    return { res: await this.doFetch(url, { method, headers, body }), requestSignatureHex }
  }

  private learnClock(res: Response): void {
    const serverTime = Number(res.headers.get('X-KeyStack-Server-Time'))
    if (!Number.isFinite(serverTime) || serverTime <= 0) return
    const offset = serverTime * 1000 - this.now()
    this.clockOffsetMs = Math.abs(offset) > SKEW_TOLERANCE_MS ? offset : 0
  }
}

function toError(answer: RawResponse): KeyStackError {
  const requestId = answer.headers.get('X-Request-Id')
  try {
    const { error } = JSON.parse(answer.text) as { error: { code: string; message: string; details?: { path: string; message: string }[] } }
    return new KeyStackError({ status: answer.status, code: error.code, message: error.message, requestId, details: error.details })
  } catch {
    return new KeyStackError({ status: answer.status, code: 'client/unexpected-answer', message: `HTTP ${answer.status} without a KeyStack error body`, requestId })
  }
}

/** Full jitter: a random wait up to the capped exponential step. */
function backoff(attempt: number, baseMs: number, maxMs: number): number {
  return Math.random() * Math.min(maxMs, baseMs * 2 ** attempt)
}

function retryAfterMs(headers: Headers, maxMs: number): number | null {
  const seconds = Number(headers.get('Retry-After'))
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds * 1000, maxMs) : null
}
