'use strict'
// DatabaseCircuitBreaker with SQLite (always available), plus what needs no server: bad input,
// URLs, an unreachable server, an exhausted pool. PostgreSQL and MySQL: database-pg.spec.js,
// database-mysql.spec.js.
const test = require('ava')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const {
  CircuitBreaker,
  CircuitOpenError,
  CircuitTimeoutError,
  DatabaseCircuitBreaker,
  DatabaseError,
  DatabaseTransaction,
} = require('../resilience.js')
const { uniqueName, sleep, settle } = require('./_helpers.js')
const { closedPort } = require('./_database.js')

async function tradesDb(options) {
  const db = new DatabaseCircuitBreaker(uniqueName('db'), options)
  await db.execute(
    'CREATE TABLE trades (id INTEGER PRIMARY KEY, symbol TEXT NOT NULL UNIQUE, qty INTEGER, px REAL, raw BLOB, note TEXT)',
  )
  return db
}

test('a new breaker is an in-memory SQLite database, CLOSED, with its CircuitBreaker', (t) => {
  const name = uniqueName('db')
  const db = new DatabaseCircuitBreaker(name)
  t.is(db.name, name)
  t.is(db.driver, 'sqlite')
  t.is(db.state, 'CLOSED')
  t.is(db.getState(), 'CLOSED')
  t.true(db.breaker instanceof CircuitBreaker)
  t.is(db.breaker.name, name)
  t.deepEqual(db.breaker.getMetrics(), db.getMetrics())
  t.is(typeof db.transaction, 'function')
})

test('SQLite values both ways: numbers, bigints, text, blobs, null, booleans, dates, JSON', async (t) => {
  const db = new DatabaseCircuitBreaker(uniqueName('db'))
  await db.execute('CREATE TABLE v (a, b, c, d, e, f, g, h, i, j, k)')
  const when = new Date('2024-01-02T03:04:05.678Z')
  await db.execute('INSERT INTO v VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)', [
    42,
    2n ** 60n,
    1.25,
    'text ☃',
    Buffer.from([0, 1, 255]),
    null,
    true,
    when,
    { side: 'buy', legs: [1, 2] },
    new Uint8Array([7, 8]),
    undefined,
  ])
  const [row] = await db.query('SELECT * FROM v')
  t.deepEqual(row, {
    a: 42,
    b: String(2n ** 60n),
    c: 1.25,
    d: 'text ☃',
    e: Buffer.from([0, 1, 255]),
    f: null,
    g: 1,
    h: '2024-01-02T03:04:05.678Z',
    i: '{"side":"buy","legs":[1,2]}',
    j: Buffer.from([7, 8]),
    k: null,
  })
  t.true(Buffer.isBuffer(row.e))
  const [limits] = await db.query('SELECT 9007199254740991 AS safe, 9007199254740992 AS unsafe, -9007199254740992 AS neg')
  t.deepEqual(limits, { safe: 9007199254740991, unsafe: '9007199254740992', neg: '-9007199254740992' })
  t.deepEqual(await db.query('SELECT 1 AS x WHERE 0'), [])
  // Arrays are stored as JSON text, element types kept (a BigInt inside is fine).
  t.deepEqual(await db.query('SELECT $1 AS a', [[1, 2n, 'x', null, 1.5, { k: true }]]), [
    { a: '[1,2,"x",null,1.5,{"k":true}]' },
  ])
})

test('execute resolves with rowsAffected and lastInsertId', async (t) => {
  const db = await tradesDb()
  t.deepEqual(await db.execute('INSERT INTO trades (symbol, qty) VALUES ($1, $2)', ['AAPL', 100]), {
    rowsAffected: 1,
    lastInsertId: 1,
  })
  await db.execute('INSERT INTO trades (symbol, qty) VALUES ($1, $2)', ['MSFT', 5])
  const r = await db.execute('UPDATE trades SET qty = qty + 1')
  t.is(r.rowsAffected, 2)
})

test('SQL injection through parameters is stored as inert text', async (t) => {
  const db = await tradesDb()
  const evil = ["x'); DROP TABLE trades; --", "' OR '1'='1", 'Robert"); DELETE FROM trades; --']
  for (const s of evil) await db.execute('INSERT INTO trades (symbol) VALUES ($1)', [s])
  const rows = await db.query('SELECT symbol FROM trades WHERE symbol = $1', ["' OR '1'='1"])
  t.deepEqual(rows, [{ symbol: "' OR '1'='1" }])
  t.deepEqual((await db.query('SELECT symbol FROM trades ORDER BY id')).map((r) => r.symbol), evil)
})

test('a constraint violation rejects with the database code and does not trip', async (t) => {
  const db = await tradesDb({ failureThreshold: 1 })
  await db.execute('INSERT INTO trades (symbol) VALUES ($1)', ['AAPL'])
  const err = await t.throwsAsync(db.execute('INSERT INTO trades (symbol) VALUES ($1)', ['AAPL']), {
    instanceOf: DatabaseError,
    code: 'ERR_DB_CONSTRAINT',
  })
  t.is(err.dbCode, '2067')
  t.regex(err.message, /UNIQUE/)
  await t.throwsAsync(db.execute('INSERT INTO trades (symbol) VALUES (NULL)'), { code: 'ERR_DB_CONSTRAINT' })
  const syntax = await t.throwsAsync(db.query('SELEKT 1'), { instanceOf: DatabaseError, code: 'ERR_DB_QUERY' })
  t.is(syntax.dbCode, '1')
  await t.throwsAsync(db.query('SELECT * FROM no_such_table'), { code: 'ERR_DB_QUERY' })
  t.is(db.state, 'CLOSED')
  const m = db.getMetrics()
  t.is(m.failedCalls, 0)
  t.is(m.ignoredCalls, 4)
})

test('a transaction commits when its callback resolves, with the very value, as one call', async (t) => {
  const db = await tradesDb()
  const before = db.getMetrics().totalCalls
  const value = { done: true }
  const result = await db.transaction(async (tx) => {
    t.true(tx instanceof DatabaseTransaction)
    await tx.execute('INSERT INTO trades (symbol, qty) VALUES ($1, $2)', ['AAPL', 1])
    const rows = await tx.query('SELECT symbol FROM trades')
    t.deepEqual(rows, [{ symbol: 'AAPL' }])
    return value
  })
  t.is(result, value)
  t.is(db.getMetrics().totalCalls, before + 1)
  t.is(db.getMetrics().successfulCalls, before + 1)
  t.deepEqual(await db.query('SELECT symbol FROM trades'), [{ symbol: 'AAPL' }])
  t.is(await db.transaction(() => 5), 5)
})

test('a transaction rolls back when its callback throws or rejects: nothing half-written', async (t) => {
  const db = await tradesDb({ failureThreshold: 1 })
  const boom = new Error('insufficient funds')
  const err = await t.throwsAsync(
    db.transaction(async (tx) => {
      await tx.execute('INSERT INTO trades (symbol) VALUES ($1)', ['AAPL'])
      await tx.execute('INSERT INTO trades (symbol) VALUES ($1)', ['MSFT'])
      throw boom
    }),
  )
  t.is(err, boom)
  const sync = new TypeError('sync')
  t.is(
    await t.throwsAsync(
      db.transaction(() => {
        throw sync
      }),
    ),
    sync,
  )
  const reason = { not: 'an error' }
  t.is((await settle(db.transaction(() => Promise.reject(reason)))).reason, reason)
  // A constraint violation inside: rejected with it, rolled back, not tripping.
  await db.execute('INSERT INTO trades (symbol) VALUES ($1)', ['IBM'])
  await t.throwsAsync(
    db.transaction(async (tx) => {
      await tx.execute('INSERT INTO trades (symbol) VALUES ($1)', ['GOOG'])
      await tx.execute('INSERT INTO trades (symbol) VALUES ($1)', ['IBM'])
    }),
    { code: 'ERR_DB_CONSTRAINT' },
  )
  t.deepEqual(await db.query('SELECT symbol FROM trades'), [{ symbol: 'IBM' }])
  t.is(db.state, 'CLOSED')
  t.is(db.getMetrics().failedCalls, 0)
})

test('a transaction that outlives the timeout is rolled back and rejects with CircuitTimeoutError', async (t) => {
  const db = await tradesDb({ timeout: 150 })
  let held
  const started = Date.now()
  const err = await t.throwsAsync(
    db.transaction(async (tx) => {
      held = tx
      await tx.execute('INSERT INTO trades (symbol) VALUES ($1)', ['AAPL'])
      await sleep(600)
      return 'late'
    }),
    { instanceOf: CircuitTimeoutError, code: 'ERR_CIRCUIT_TIMEOUT' },
  )
  t.true(Date.now() - started < 550, `rejected after ${Date.now() - started} ms`)
  t.is(err.breaker, db.name)
  t.is(db.getMetrics().failedCalls, 1)
  await t.throwsAsync(held.query('SELECT 1'), { code: 'ERR_CIRCUIT_TIMEOUT' })
  t.deepEqual(await db.query('SELECT * FROM trades'), [])
  await sleep(500) // the callback finishes; nothing changes
  t.deepEqual(await db.query('SELECT * FROM trades'), [])
})

test('a transaction whose statement is slow times out too', async (t) => {
  const db = await tradesDb({ timeout: 100 })
  await t.throwsAsync(
    db.transaction((tx) =>
      tx.query('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50000000) SELECT count(*) FROM c'),
    ),
    { code: 'ERR_CIRCUIT_TIMEOUT' },
  )
  t.is(db.getMetrics().failedCalls, 1)
})

test('a transaction used after it ended rejects with ERR_DB_TRANSACTION_CLOSED', async (t) => {
  const db = await tradesDb()
  let held
  await db.transaction((tx) => {
    held = tx
  })
  await t.throwsAsync(held.query('SELECT 1'), { instanceOf: DatabaseError, code: 'ERR_DB_TRANSACTION_CLOSED' })
  await t.throwsAsync(held.execute('DELETE FROM trades'), { code: 'ERR_DB_TRANSACTION_CLOSED' })
})

test('an exhausted pool trips the breaker (a transaction holds the only connection)', async (t) => {
  const db = await tradesDb({ acquireTimeout: 100, failureThreshold: 1, timeout: 5000 })
  const seen = await db.transaction(async () => settle(db.query('SELECT 1')))
  t.is(seen.status, 'rejected')
  t.true(seen.reason instanceof DatabaseError)
  t.is(seen.reason.code, 'ERR_DB_POOL_TIMEOUT')
  t.is(db.state, 'OPEN')
  await t.throwsAsync(db.query('SELECT 1'), { instanceOf: CircuitOpenError, code: 'ERR_CIRCUIT_OPEN' })
  await t.throwsAsync(db.transaction(() => t.fail('must not run')), { code: 'ERR_CIRCUIT_OPEN' })
})

test('an unreachable server trips the breaker and no message shows the password', async (t) => {
  const port = await closedPort()
  for (const scheme of ['postgres', 'mysql']) {
    const db = new DatabaseCircuitBreaker(uniqueName('down'), {
      url: `${scheme}://trader:Sup3rS3cret@127.0.0.1:${port}/db`,
      acquireTimeout: 150,
      failureThreshold: 2,
    })
    for (let i = 0; i < 2; i++) {
      const err = await t.throwsAsync(db.query('SELECT 1'), { instanceOf: DatabaseError })
      t.true(['ERR_DB_POOL_TIMEOUT', 'ERR_DB_CONNECTION'].includes(err.code), err.code)
      t.false(JSON.stringify({ ...err, message: err.message, stack: err.stack }).includes('Sup3rS3cret'))
    }
    t.is(db.state, 'OPEN')
    await t.throwsAsync(db.execute('SELECT 1'), { code: 'ERR_CIRCUIT_OPEN' })
    await db.close()
  }
})

test('a file database is shared by its connections and survives the breaker', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nt-db-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const url = `sqlite://${path.join(dir, 'trades.db')}`
  const db = new DatabaseCircuitBreaker(uniqueName('file'), { url, maxConnections: 3 })
  await db.execute('CREATE TABLE t (n INTEGER)')
  await Promise.all([1, 2, 3, 4].map((n) => db.execute('INSERT INTO t VALUES ($1)', [n])))
  await db.close()
  const again = new DatabaseCircuitBreaker(uniqueName('file'), { url })
  t.deepEqual(await again.query('SELECT sum(n) AS s FROM t'), [{ s: 10 }])
  await again.close()
})

test('close() closes the pool: later calls reject with ERR_DB_CLOSED', async (t) => {
  const db = new DatabaseCircuitBreaker(uniqueName('db'))
  await db.query('SELECT 1')
  await db.close()
  await t.throwsAsync(db.query('SELECT 1'), { instanceOf: DatabaseError, code: 'ERR_DB_CLOSED' })
  await t.throwsAsync(db.transaction(() => 1), { code: 'ERR_DB_CLOSED' })
})

test('terminating a worker with a query and a transaction in flight leaves the process healthy', async (t) => {
  const { Worker } = require('node:worker_threads')
  const code = `
    const { DatabaseCircuitBreaker } = require(${JSON.stringify(path.join(__dirname, '..', 'resilience.js'))})
    const db = new DatabaseCircuitBreaker('worker-db')
    db.transaction(async (tx) => {
      await tx.query('SELECT 1')
      await new Promise((resolve) => setTimeout(resolve, 5000))
    }).catch(() => {})
    db.query('SELECT 2').catch(() => {})
    require('node:worker_threads').parentPort.postMessage('started')
  `
  for (let i = 0; i < 3; i++) {
    const worker = new Worker(code, { eval: true })
    await new Promise((resolve) => worker.once('message', resolve))
    await sleep(20)
    await worker.terminate()
  }
  const db = new DatabaseCircuitBreaker(uniqueName('after-workers'))
  t.deepEqual(await db.query('SELECT 1 AS ok'), [{ ok: 1 }])
})

test('the one in-memory connection, kept between queries, serves transactions and queries mixed', async (t) => {
  const db = await tradesDb({ acquireTimeout: 3000 })
  const work = []
  for (let i = 0; i < 12; i++) {
    work.push(
      i % 3 === 0
        ? db.transaction(async (tx) => {
            await tx.execute('INSERT INTO trades (symbol, qty) VALUES ($1, $2)', [`S${i}`, i])
            return (await tx.query('SELECT qty FROM trades WHERE symbol = $1', [`S${i}`]))[0].qty
          })
        : db.query('SELECT $1 AS i', [i]).then((rows) => rows[0].i),
    )
  }
  t.deepEqual(await Promise.all(work), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
  t.is((await db.query('SELECT count(*) AS n FROM trades'))[0].n, 4)
  t.is(db.getMetrics().failedCalls, 0)
  await db.close()
})

test('the bare generated binding (without resilience.js) builds the same rows itself', (t) => {
  const { spawnSync } = require('node:child_process')
  const binding = JSON.stringify(path.join(__dirname, '..', 'index.js'))
  const r = spawnSync(
    process.execPath,
    [
      '-e',
      `const { DatabaseCircuitBreaker } = require(${binding})
      const db = new DatabaseCircuitBreaker('bare')
      db.query("SELECT 1 AS a, 2 AS b, 3 AS a, x'0102' AS c, 4 AS \\"__proto__\\"")
        .then((rows) => {
          const [row] = rows
          console.log(JSON.stringify([Object.keys(row), row.a, [...row.c], Object.getPrototypeOf(row) === Object.prototype, Object.getOwnPropertyDescriptor(row, '__proto__').value]))
        })`,
    ],
    { encoding: 'utf8', timeout: 20000 },
  )
  t.is(r.status, 0, r.stderr)
  t.deepEqual(JSON.parse(r.stdout), [['a', 'b', 'c', '__proto__'], 3, [1, 2], true, 4])
})
