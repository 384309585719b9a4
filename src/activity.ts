/**
 * Activity counters for the dashboard chart: validations and activations per account and UTC day.
 * Counted in memory per isolate and added to D1 at most once a minute, so a validate costs no D1
 * write. Counts of an isolate that dies before its next flush are lost (the chart is a trend, not
 * a ledger).
 */
export type ActivityKind = 'validations' | 'activations'

export const ACTIVITY_FLUSH_INTERVAL_MS = 60_000

const pending = new Map<string, { accountId: string; day: string; validations: number; activations: number }>()
let lastFlush = 0

export const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10)

/** Counts one event; returns the flush to hand to `waitUntil` when one is due, else null. */
export function countActivity(env: Env, accountId: string, kind: ActivityKind, nowMs: number): Promise<void> | null {
  const day = utcDay(nowMs)
  const key = `${accountId}|${day}`
  const entry = pending.get(key) ?? { accountId, day, validations: 0, activations: 0 }
  entry[kind]++
  pending.set(key, entry)
  if (lastFlush === 0) lastFlush = nowMs // the first flush comes a minute after the first count
  return nowMs - lastFlush >= ACTIVITY_FLUSH_INTERVAL_MS ? flushActivity(env, nowMs) : null
}

/** Adds this isolate's counts to D1 and forgets them. */
export async function flushActivity(env: Env, nowMs: number): Promise<void> {
  lastFlush = nowMs
  const entries = [...pending.values()]
  pending.clear()
  if (entries.length === 0) return
  try {
    await env.DB.batch(
      entries.map((e) =>
        env.DB.prepare(
          `INSERT INTO activity_daily (account_id, day, validations, activations) VALUES (?1, ?2, ?3, ?4)
           ON CONFLICT (account_id, day) DO UPDATE SET validations = validations + ?3, activations = activations + ?4`,
        ).bind(e.accountId, e.day, e.validations, e.activations),
      ),
    )
  } catch (err) {
    // Put the counts back for the next flush.
    for (const e of entries) {
      const key = `${e.accountId}|${e.day}`
      const now = pending.get(key) ?? { ...e, validations: 0, activations: 0 }
      now.validations += e.validations
      now.activations += e.activations
      pending.set(key, now)
    }
    console.error('could not flush activity counters:', err instanceof Error ? err.message : String(err))
  }
}

/** Counts of this isolate not yet in D1 (the dashboard adds them, so its own activity shows at once). */
export function pendingActivity(accountId: string): Map<string, { validations: number; activations: number }> {
  const out = new Map<string, { validations: number; activations: number }>()
  for (const e of pending.values()) if (e.accountId === accountId) out.set(e.day, { validations: e.validations, activations: e.activations })
  return out
}

export interface DailyActivity {
  day: string
  validations: number
  activations: number
}

/** The last `days` UTC days, oldest first, stored counts plus this isolate's pending ones. */
export async function activityOfAccount(db: D1Database, accountId: string, nowMs: number, days = 30): Promise<DailyActivity[]> {
  const first = utcDay(nowMs - (days - 1) * 86_400_000)
  const { results } = await db
    .prepare('SELECT day, validations, activations FROM activity_daily WHERE account_id = ?1 AND day >= ?2')
    .bind(accountId, first)
    .all<DailyActivity>()
  const stored = new Map(results.map((r) => [r.day, r]))
  const extra = pendingActivity(accountId)
  return Array.from({ length: days }, (_, i) => {
    const day = utcDay(nowMs - (days - 1 - i) * 86_400_000)
    return {
      day,
      validations: (stored.get(day)?.validations ?? 0) + (extra.get(day)?.validations ?? 0),
      activations: (stored.get(day)?.activations ?? 0) + (extra.get(day)?.activations ?? 0),
    }
  })
}
