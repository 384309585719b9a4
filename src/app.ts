import { bodyLimit } from 'hono/body-limit'
import { createMiddleware } from 'hono/factory'
import { requestId } from 'hono/request-id'
import { secureHeaders } from 'hono/secure-headers'
import { accountRoutes } from './accounts/routes'
import { verifySignedRequest } from './auth/middleware'
import { signResponses } from './auth/response-signature'
import type { AppEnv } from './context'
import { dashboardRoutes } from './dashboard/routes'
import { docsPage } from './docs/page'
import { ApiError, handleError, handleNotFound } from './errors'
import { keyRoutes } from './keys/routes'
import { licenseRoutes } from './licenses/routes'
import { MAX_BODY_BYTES } from './limits'
import { SIGNED } from './openapi'
import { ShardedReplayStore, replayOptionsFromEnv, type ReplayStore } from './replay/client'
import { newRouter } from './router'

export { MAX_BODY_BYTES }

/** What the app takes from outside; tests swap in a fixed clock or a failing replay store. */
export interface AppDeps {
  /** Milliseconds since the epoch. */
  clock: () => number
  replayStore: (env: Env) => ReplayStore
}

/** One store per environment (per isolate in production), so its settings are parsed once. */
const replayStores = new WeakMap<Env, ReplayStore>()

const defaultDeps: AppDeps = {
  clock: () => Date.now(),
  replayStore: (env) => {
    let store = replayStores.get(env)
    if (!store) replayStores.set(env, (store = new ShardedReplayStore(env.REPLAY_SHARD, replayOptionsFromEnv(env))))
    return store
  },
}

export function createApp(overrides: Partial<AppDeps> = {}) {
  const deps = { ...defaultDeps, ...overrides }
  const app = newRouter()

  app.use(requestId())
  app.use(
    createMiddleware<AppEnv>(async function requestContext(c, next) {
      const now = deps.clock()
      c.set('now', now)
      c.set('replayStore', deps.replayStore(c.env))
      // On every answer, errors included, so a client can correct its clock.
      c.header('X-KeyStack-Server-Time', String(Math.floor(now / 1000)))
      await next()
    }),
  )

  app.get('/health', (c) => c.json({ status: 'ok' }))
  app.get('/dashboard/', (c) => c.redirect('/dashboard', 301))
  app.route('/dashboard', dashboardRoutes)

  // Authentication comes before routing: an unsigned request to an unknown /v1 path is a 401.
  app.use(
    '/v1/*',
    signResponses(),
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new ApiError('api/body-too-large')
      },
    }),
    verifySignedRequest(),
  )
  app.route('/', accountRoutes)
  app.route('/', keyRoutes)
  app.route('/', licenseRoutes)

  app.openAPIRegistry.registerComponent('securitySchemes', SIGNED, {
    type: 'apiKey',
    in: 'header',
    name: 'X-KeyStack-Signature',
    description:
      'HMAC-SHA256 request signature (v1 or v2) with X-KeyStack-Key and X-KeyStack-Timestamp (and X-KeyStack-Nonce for v2). ' +
      'The scopes listed on an operation are the key scopes it admits.',
  })
  const docConfig = {
    openapi: '3.1.0',
    info: { title: 'KeyStack API', version: '1.0.0', description: 'Signed software-licensing API.' },
  }
  app.doc31('/openapi.json', docConfig)
  app.get(
    '/docs',
    secureHeaders({ contentSecurityPolicy: { defaultSrc: ["'none'"], styleSrc: ["'unsafe-inline'"] } }),
    (c) => c.html(docsPage(app.getOpenAPI31Document(docConfig) as unknown as Parameters<typeof docsPage>[0])),
  )

  app.notFound(handleNotFound)
  app.onError(handleError)
  return app
}
