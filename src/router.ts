import { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from './context'
import { ApiError } from './errors'

/** A router whose schema failures become the contract's 400 `api/validation-failed` with details. */
export function newRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const details = result.error.issues.map((issue) => ({
          path: issue.path.map(String).join('.'),
          message: issue.message,
        }))
        throw new ApiError('api/validation-failed', undefined, details)
      }
    },
  })
}
