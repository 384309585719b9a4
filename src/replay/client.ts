import { DEFAULT_SHARD_LAYOUT, parseShardLayout, shardName, type ShardLayout } from './layout'

/** The replay store as the auth layer sees it. */
export interface ReplayStore {
  /** True if `signatureHex` was not accepted in the last 10 minutes (and is now recorded); false for a replay. Throws if the store cannot answer. */
  claim(signatureHex: string, nowMs: number): Promise<boolean>
}

export class ReplayStoreTimeout extends Error {
  constructor(ms: number) {
    super(`replay store did not answer within ${ms} ms`)
  }
}

/** Where shards are found: the Durable Object namespace in production. */
export interface ShardNamespace {
  getByName(name: string, options?: { locationHint?: DurableObjectLocationHint }): { claim(signatureHex: string, nowMs: number): Promise<boolean> }
}

const LOCATION_HINTS = ['wnam', 'enam', 'sam', 'weur', 'eeur', 'apac', 'apac-ne', 'apac-se', 'oc', 'afr', 'me'] as const

export interface ShardedReplayStoreOptions {
  layout: ShardLayout
  /** The layout in force before the last change, still consulted so that a change opens no replay window. */
  previousLayout: ShardLayout | null
  timeoutMs: number
  /** Where a shard is created on first use (it stays there); best near the D1 primary. */
  locationHint?: DurableObjectLocationHint
}

export function replayOptionsFromEnv(env: Env): ShardedReplayStoreOptions {
  const timeoutMs = Number(env.KEYSTACK_REPLAY_TIMEOUT_MS || 2000)
  return {
    layout: parseShardLayout(env.KEYSTACK_REPLAY_SHARD_LAYOUT, DEFAULT_SHARD_LAYOUT)!,
    previousLayout: parseShardLayout(env.KEYSTACK_REPLAY_SHARD_LAYOUT_PREVIOUS, null),
    timeoutMs: Number.isFinite(timeoutMs) && timeoutMs > 0 ? timeoutMs : 2000,
    locationHint: parseLocationHint(env.KEYSTACK_REPLAY_LOCATION_HINT),
  }
}

/**
 * The Durable Object replay store, sharded by a prefix of the signature. While a previous layout is
 * configured, a signature is claimed in its shard under both layouts and accepted only if both are
 * fresh: a signature accepted under the old layout (also by an isolate still running the old
 * configuration) is still refused under the new one.
 */
export class ShardedReplayStore implements ReplayStore {
  constructor(
    private readonly namespace: ShardNamespace,
    private readonly options: ShardedReplayStoreOptions,
  ) {}

  async claim(signatureHex: string, nowMs: number): Promise<boolean> {
    const { layout, previousLayout, timeoutMs, locationHint } = this.options
    const layouts = previousLayout && previousLayout !== layout ? [layout, previousLayout] : [layout]
    const where = locationHint ? { locationHint } : undefined
    const claims = layouts.map((l) => this.namespace.getByName(shardName(l, signatureHex), where).claim(signatureHex, nowMs))
    const results = await withTimeout(Promise.all(claims), timeoutMs)
    return results.every(Boolean)
  }
}

function parseLocationHint(value: string | undefined): DurableObjectLocationHint | undefined {
  if (!value?.trim()) return undefined
  const hint = value.trim()
  if ((LOCATION_HINTS as readonly string[]).includes(hint)) return hint as DurableObjectLocationHint
  throw new Error(`invalid KEYSTACK_REPLAY_LOCATION_HINT ${JSON.stringify(hint)}: expected one of ${LOCATION_HINTS.join(', ')}`)
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | null = null
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ReplayStoreTimeout(ms)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => timer && clearTimeout(timer))
}
