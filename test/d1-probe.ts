/**
 * Wraps a D1 binding to count round trips and record every statement (SQL and parameters), so tests
 * can assert how many queries a request costs and replay them under EXPLAIN QUERY PLAN.
 */
export interface RecordedStatement {
  sql: string
  params: unknown[]
}

export class D1Probe {
  roundTrips = 0
  statements: RecordedStatement[] = []
  private readonly real = new WeakMap<object, D1PreparedStatement>()

  constructor(private readonly db: D1Database) {}

  reset() {
    this.roundTrips = 0
    this.statements = []
  }

  get binding(): D1Database {
    return {
      prepare: (sql: string) => this.wrap(this.db.prepare(sql), { sql, params: [] }),
      batch: (stmts: D1PreparedStatement[]) => {
        this.roundTrips++
        return this.db.batch(stmts.map((s) => this.unwrap(s)))
      },
      exec: (sql: string) => {
        this.roundTrips++
        return this.db.exec(sql)
      },
      withSession: () => {
        throw new Error('not probed')
      },
      dump: () => this.db.dump(),
    } as unknown as D1Database
  }

  private wrap(stmt: D1PreparedStatement, rec: RecordedStatement): D1PreparedStatement {
    const probe = this
    const run = <K extends 'first' | 'all' | 'run' | 'raw'>(method: K) =>
      (...args: unknown[]) => {
        probe.roundTrips++
        probe.statements.push(rec)
        return (stmt[method] as (...a: unknown[]) => unknown)(...args)
      }
    const wrapped = {
      bind: (...params: unknown[]) => probe.wrap(stmt.bind(...params), { sql: rec.sql, params }),
      first: run('first'),
      all: run('all'),
      run: run('run'),
      raw: run('raw'),
    } as unknown as D1PreparedStatement
    this.real.set(wrapped, stmt)
    // A statement in a batch counts as a statement but not as a round trip of its own.
    ;(wrapped as unknown as { __record: RecordedStatement }).__record = rec
    return wrapped
  }

  private unwrap(stmt: D1PreparedStatement): D1PreparedStatement {
    const rec = (stmt as unknown as { __record?: RecordedStatement }).__record
    if (rec) this.statements.push(rec)
    return this.real.get(stmt) ?? stmt
  }

  /** The query plan of every recorded statement, one string per statement. */
  async plans(): Promise<{ sql: string; plan: string }[]> {
    const out = []
    for (const { sql, params } of this.statements) {
      const { results } = await this.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).bind(...params).all<{ detail: string }>()
      out.push({ sql, plan: results.map((r) => r.detail).join('\n') })
    }
    return out
  }
}
