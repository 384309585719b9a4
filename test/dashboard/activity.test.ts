import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { ACTIVITY_FLUSH_INTERVAL_MS, activityOfAccount, countActivity, flushActivity, utcDay } from '../../src/activity'
import { D1Probe } from '../d1-probe'
import { newAccount } from '../helpers'

describe('activity counters', () => {
  it('count validations in memory and write D1 at most once a minute', async () => {
    const { accountId } = await newAccount('Activity Co')
    const probe = new D1Probe(env.DB)
    const probed = { ...env, DB: probe.binding }
    const t0 = Date.UTC(2030, 0, 10, 12)
    await flushActivity(probed, t0) // start from a clean slate
    probe.reset()
    for (let i = 0; i < 100; i++) expect(countActivity(probed, accountId, 'validations', t0 + i * 100)).toBeNull()
    expect(probe.roundTrips).toBe(0)
    // Shown at once from this isolate's memory.
    expect((await activityOfAccount(env.DB, accountId, t0 + 10_000)).at(-1)).toEqual({ day: utcDay(t0), validations: 100, activations: 0 })

    const flush = countActivity(probed, accountId, 'activations', t0 + ACTIVITY_FLUSH_INTERVAL_MS)
    expect(flush).not.toBeNull()
    await flush
    expect(probe.roundTrips).toBe(1) // one batch
    const row = await env.DB.prepare('SELECT validations, activations FROM activity_daily WHERE account_id = ? AND day = ?').bind(accountId, utcDay(t0)).first()
    expect(row).toEqual({ validations: 100, activations: 1 })
    const days = await activityOfAccount(env.DB, accountId, t0 + ACTIVITY_FLUSH_INTERVAL_MS)
    expect(days).toHaveLength(30)
    expect(days.at(-1)).toEqual({ day: utcDay(t0), validations: 100, activations: 1 })
  })
})
