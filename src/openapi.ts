import { createRoute, z, type RouteConfig } from '@hono/zod-openapi'
import { authorize, type AuthorizeOptions } from './auth/middleware'
import type { Scope } from './auth/credentials'
import { ERROR_CODES, type ErrorCode } from './errors'

/** Name of the security scheme in the OpenAPI document; its scopes are the key scopes a route admits. */
export const SIGNED = 'KeyStackSignature'

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'api/timestamp-replay' }),
      message: z.string(),
      details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .openapi('Error')

/** Error codes every signed route can answer with, before its own. */
const SIGNED_ROUTE_ERRORS: ErrorCode[] = [
  'api/key-missing', 'api/key-unknown', 'api/key-revoked', 'api/timestamp-missing', 'api/timestamp-invalid',
  'api/timestamp-skew', 'api/signature-missing', 'api/signature-malformed', 'api/signature-mismatch',
  'api/forbidden', 'api/timestamp-replay', 'api/body-too-large', 'api/replay-store-unavailable', 'api/internal',
]

/** OpenAPI responses for a list of error codes, grouped by status. */
export function errorResponses(codes: readonly ErrorCode[]) {
  const byStatus = new Map<number, string[]>()
  for (const code of codes) {
    const status = ERROR_CODES[code][0]
    byStatus.set(status, [...(byStatus.get(status) ?? []), code])
  }
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      String(status),
      { description: list.map((code) => `\`${code}\``).join(', '), content: { 'application/json': { schema: ErrorSchema } } },
    ]),
  )
}

type SignedRouteConfig = Omit<RouteConfig, 'middleware' | 'security'> & { errors?: readonly ErrorCode[] }

/**
 * Declares a signed route. The scopes go both into the OpenAPI document (as the security requirement)
 * and into the route's `authorize` middleware, so the documented and the enforced scope are one value.
 */
export function signedRoute<const R extends SignedRouteConfig>(
  scopes: readonly Scope[],
  { errors = [], ...route }: R,
  options: AuthorizeOptions = {},
) {
  return createRoute({
    ...route,
    security: [{ [SIGNED]: [...scopes] }],
    middleware: [authorize(scopes, options)] as const,
    responses: { ...errorResponses([...SIGNED_ROUTE_ERRORS, ...errors]), ...route.responses },
  })
}
