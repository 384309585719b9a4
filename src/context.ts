import type { ReplayStore } from './replay/client'
import type { Credential } from './auth/credentials'
import type { ParsedSignature } from './auth/signature'

/** A request whose signature verified: set by the signing middleware, read by `authorize` and routes. */
export interface VerifiedRequest {
  credential: Credential
  signature: ParsedSignature
}

export interface DashboardSession {
  /** user id */
  sub: string
  /** account id */
  acc: string
  /** the log-in (refresh-token family) */
  fam: string
  iat: number
  exp: number
  email: string
}

/** Hono's environment for the whole app. */
export interface AppEnv {
  Bindings: Env
  Variables: {
    requestId: string
    /** Milliseconds since the epoch; one reading per request, so every check sees the same time. */
    now: number
    replayStore: ReplayStore
    verified: VerifiedRequest
    /** Resolves true once the replay store accepted the request (read-only routes run before that). */
    replayAccepted: Promise<boolean>
    /** A dashboard request's signed-in person (set by the dashboard's session middleware). */
    session: DashboardSession
  }
}
