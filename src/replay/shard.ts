import { DurableObject } from 'cloudflare:workers'

/**
 * How long an accepted signature is remembered: the contract's 10 minutes plus one. A timestamp is
 * acceptable while |now - ts| <= 300 s counted in whole seconds, that is for just under 602 s; 11
 * minutes cover that with room for clocks that differ a little between machines.
 */
export const REPLAY_WINDOW_MS = 11 * 60 * 1000
/** Slack before a cleanup alarm, so a busy shard is swept in batches, not once per request. */
const SWEEP_SLACK_MS = 60 * 1000

/**
 * One shard of the replay store: remembers accepted signatures for {@link REPLAY_WINDOW_MS}.
 * SQLite-backed, so the memory survives restarts and evictions. The check and the insert are one
 * SQL statement with no `await` around it, so identical requests racing each other get one winner.
 */
export class ReplayShard extends DurableObject<Env> {
  /** The alarm time this object has set, mirrored in memory to avoid a storage read per claim. */
  private alarmAt: number | null = null

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    ctx.storage.sql.exec(
      'CREATE TABLE IF NOT EXISTS seen (signature TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID',
    )
    ctx.storage.sql.exec('CREATE INDEX IF NOT EXISTS seen_by_expiry ON seen (expires_at)')
    ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm()
    })
  }

  /**
   * Records `signature` as used at `nowMs` (the caller's clock). True if it was not seen within the
   * window (the request may proceed), false if it is a replay. An expired entry counts as unseen even
   * if the cleanup alarm has not run yet (alarms can fire late).
   */
  claim(signature: string, nowMs: number): boolean {
    const inserted = this.ctx.storage.sql
      .exec(
        `INSERT INTO seen (signature, expires_at) VALUES (?1, ?2)
         ON CONFLICT (signature) DO UPDATE SET expires_at = excluded.expires_at WHERE seen.expires_at <= ?3
         RETURNING 1`,
        signature,
        nowMs + REPLAY_WINDOW_MS,
        nowMs,
      )
      .toArray()
    if (inserted.length === 0) return false
    if (this.alarmAt === null) this.scheduleSweep(Date.now() + REPLAY_WINDOW_MS + SWEEP_SLACK_MS)
    return true
  }

  /** Deletes expired entries; reschedules itself while entries remain, so storage stays bounded by the window. */
  override async alarm(): Promise<void> {
    const now = Date.now()
    this.ctx.storage.sql.exec('DELETE FROM seen WHERE expires_at <= ?', now)
    const next = this.ctx.storage.sql.exec<{ next: number | null }>('SELECT MIN(expires_at) AS next FROM seen').one().next
    this.alarmAt = null
    if (next !== null) this.scheduleSweep(Math.max(next, now) + SWEEP_SLACK_MS)
  }

  /** Number of remembered signatures (expired or not): for tests, benchmarks and operators. */
  size(): number {
    return this.ctx.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM seen').one().n
  }

  private scheduleSweep(at: number): void {
    this.alarmAt = at
    void this.ctx.storage.setAlarm(at)
  }
}
