// Compiled with `tsc -p __test__/types` by types.spec.js: the typings of DatabaseCircuitBreaker.
import {
  CircuitBreaker,
  CircuitOpenError,
  DatabaseCircuitBreaker,
  DatabaseError,
  DatabaseErrorCode,
  DatabaseTransaction,
  type CircuitBreakerMetrics,
  type DatabaseCircuitBreakerOptions,
  type DatabaseExecuteResult,
} from '../..'

interface Trade {
  id: string
  symbol: string
  qty: number
}

async function database(): Promise<void> {
  const options: DatabaseCircuitBreakerOptions = {
    url: 'postgres://trader@127.0.0.1:5432/trading',
    maxConnections: 5,
    acquireTimeout: 2000,
    failureThreshold: 3,
    timeout: 5000,
  }
  const db = new DatabaseCircuitBreaker('trading_db', options)
  const memory = new DatabaseCircuitBreaker('scratch')
  const trades: Trade[] = await db.query<Trade>('SELECT id, symbol, qty FROM trades WHERE qty > $1', [10])
  const rows: Record<string, unknown>[] = await memory.query('SELECT 1 AS one')
  const done: DatabaseExecuteResult = await db.execute('DELETE FROM trades WHERE id = $1', ['42'])
  const affected: number = done.rowsAffected
  const id: number | string | null = done.lastInsertId
  const total: number = await db.transaction(async (tx: DatabaseTransaction) => {
    await tx.execute('UPDATE accounts SET cash = cash - $1 WHERE id = $2', [100, 1])
    const r = await tx.query<{ cash: string }>('SELECT cash FROM accounts WHERE id = $1', [1])
    return r.length
  })
  const state: 'CLOSED' | 'OPEN' | 'HALF_OPEN' = db.state
  const same: typeof state = db.getState()
  const metrics: CircuitBreakerMetrics = db.getMetrics()
  const breaker: CircuitBreaker = db.breaker
  const driver: 'sqlite' | 'postgres' | 'mysql' = db.driver
  try {
    await db.query('SELECT 1')
  } catch (err) {
    if (err instanceof DatabaseError) {
      const code: string = err.code
      const narrowed: DatabaseErrorCode = err.code
      if (err.code === 'ERR_DB_CONSTRAINT') void narrowed
      // @ts-expect-error the codes of a DatabaseError are a literal union
      if (err.code === 'ERR_DB_OOPS') void narrowed
      const sqlState: string | undefined = err.sqlState
      const dbCode: string | undefined = err.dbCode
    } else if (err instanceof CircuitOpenError) {
      const open: 'ERR_CIRCUIT_OPEN' = err.code
    }
  }
  await db.close()
  const disposed: Promise<void> = db[Symbol.asyncDispose]()
  await disposed
  // @ts-expect-error the SQL text is a string
  await db.query(42)
  // @ts-expect-error unknown option
  new DatabaseCircuitBreaker('x', { poolSize: 3 })
  // @ts-expect-error transaction takes a function
  await db.transaction('BEGIN')
  void [trades, rows, affected, id, total, same, metrics, breaker, driver]
}

void database
