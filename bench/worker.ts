// The benchmark's worker: the production app plus bench-only routes. It is bundled only by
// scripts/bench.mjs; production (src/index.ts) contains none of this, so nothing can enable it there.
import app from '../src/index'
import { findLicenseByKey } from '../src/licenses/queries'
import { shardName, DEFAULT_SHARD_LAYOUT } from '../src/replay/layout'

export { ReplayShard } from '../src/index'

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url)
    switch (url.pathname) {
      // The irreducible storage work of a validate: one replay-shard insert and one indexed D1
      // read, concurrently, and nothing else (no signature, no parsing beyond the headers).
      case '/__bench/floor': {
        const signature = request.headers.get('X-Bench-Signature')!
        const [fresh, found] = await Promise.all([
          env.REPLAY_SHARD.getByName(shardName(DEFAULT_SHARD_LAYOUT, signature)).claim(signature, Date.now()),
          findLicenseByKey(env.DB, url.searchParams.get('account')!, url.searchParams.get('key')!, null),
        ])
        return Response.json({ fresh, found: found !== null })
      }
      // The replay store alone: one shard, or the shard the signature's prefix picks.
      case '/__bench/replay': {
        const signature = request.headers.get('X-Bench-Signature')!
        const name = url.searchParams.get('shards') === 'one' ? 'bench:one' : shardName(DEFAULT_SHARD_LAYOUT, signature)
        const fresh = await env.REPLAY_SHARD.getByName(name).claim(signature, Date.now())
        return Response.json({ fresh })
      }
      // What one Ed25519 answer signature costs: `n` signatures of a validate-sized answer.
      case '/__bench/sign': {
        const n = Number(url.searchParams.get('n') ?? 1000)
        const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as CryptoKeyPair
        const bytes = new TextEncoder().encode('a'.repeat(64) + '\n200\n' + 'x'.repeat(400))
        for (let i = 0; i < n; i++) await crypto.subtle.sign({ name: 'Ed25519' }, pair.privateKey, bytes)
        return Response.json({ signed: n })
      }
      default:
        return app.fetch(request, env, ctx)
    }
  },
}
