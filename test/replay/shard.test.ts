import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { REPLAY_WINDOW_MS, type ReplayShard } from '../../src/replay/shard'

const shard = (name: string) => env.REPLAY_SHARD.getByName(name)
const sig = (n: number) => n.toString(16).padStart(64, '0')

describe('ReplayShard', () => {
  it('accepts a signature once and refuses it for the whole window', async () => {
    const s = shard('unit:once')
    const t = Date.now()
    expect(await s.claim(sig(1), t)).toBe(true)
    expect(await s.claim(sig(1), t)).toBe(false)
    expect(await s.claim(sig(1), t + REPLAY_WINDOW_MS - 1)).toBe(false)
    expect(await s.claim(sig(2), t)).toBe(true)
  })

  it('treats an expired entry as unseen even before the cleanup alarm ran', async () => {
    const s = shard('unit:late-alarm')
    const t = Date.now()
    expect(await s.claim(sig(3), t)).toBe(true)
    expect(await s.claim(sig(3), t + REPLAY_WINDOW_MS)).toBe(true)
    expect(await s.claim(sig(3), t + REPLAY_WINDOW_MS)).toBe(false)
  })

  it('has exactly one winner among 40 identical claims at the same instant', async () => {
    const s = shard('unit:race')
    const t = Date.now()
    const results = await Promise.all(Array.from({ length: 40 }, () => s.claim(sig(4), t)))
    expect(results.filter(Boolean)).toHaveLength(1)
  })

  it('sets a cleanup alarm that deletes expired entries, leaving zero rows', async () => {
    const s = shard('unit:alarm')
    const past = Date.now() - REPLAY_WINDOW_MS - 1000
    for (let i = 0; i < 25; i++) await s.claim(sig(100 + i), past)
    expect(await s.size()).toBe(25)
    expect(await runInDurableObject(s, (_o: ReplayShard, state) => state.storage.getAlarm())).not.toBeNull()
    expect(await runDurableObjectAlarm(s)).toBe(true)
    expect(await s.size()).toBe(0)
    // Nothing left, so no alarm either: an idle shard costs nothing.
    expect(await runInDurableObject(s, (_o: ReplayShard, state) => state.storage.getAlarm())).toBeNull()
  })

  it('keeps live entries through a sweep and sweeps again later', async () => {
    const s = shard('unit:alarm-live')
    const now = Date.now()
    await s.claim(sig(200), now - REPLAY_WINDOW_MS - 1000)
    await s.claim(sig(201), now)
    expect(await runDurableObjectAlarm(s)).toBe(true)
    expect(await s.size()).toBe(1)
    expect(await s.claim(sig(201), now)).toBe(false)
    const next = await runInDurableObject(s, (_o: ReplayShard, state) => state.storage.getAlarm())
    expect(next).toBeGreaterThanOrEqual(now + REPLAY_WINDOW_MS)
    // Delete the alarm: alarms are not reset between tests.
    await runInDurableObject(s, (_o: ReplayShard, state) => state.storage.deleteAlarm())
  })

  it('remembers across an eviction of the object (it is storage, not memory)', async () => {
    const s = shard('unit:evict')
    const t = Date.now()
    expect(await s.claim(sig(300), t)).toBe(true)
    const { evictDurableObject } = await import('cloudflare:test')
    await evictDurableObject(s)
    expect(await shard('unit:evict').claim(sig(300), t)).toBe(false)
    await runDurableObjectAlarm(shard('unit:evict'))
  })
})
