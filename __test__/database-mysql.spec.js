'use strict'
// DatabaseCircuitBreaker against a real MySQL or MariaDB (MYSQL_URL; skipped when unset).
const test = require('ava')

const { CircuitTimeoutError, DatabaseCircuitBreaker, DatabaseError } = require('../resilience.js')
const { uniqueName, settle } = require('./_helpers.js')
const { tableName, serverUrl } = require('./_database.js')

const url = serverUrl('MYSQL_URL')
const myTest = url ? test : test.skip

const dbs = []
function make(options) {
  const db = new DatabaseCircuitBreaker(uniqueName('my'), { url, maxConnections: 4, ...options })
  dbs.push(db)
  return db
}
const tables = []
async function table(db, columns) {
  const name = tableName('nt_my')
  await db.execute(`CREATE TABLE ${name} (${columns})`)
  tables.push(name)
  return name
}
test.after.always(async () => {
  if (!url) return
  const db = new DatabaseCircuitBreaker(uniqueName('my-cleanup'), { url })
  for (const name of tables) await settle(db.execute(`DROP TABLE IF EXISTS ${name}`))
  await db.close()
  await Promise.all(dbs.map((d) => d.close()))
})

myTest('values both ways, with ? placeholders', async (t) => {
  const db = make()
  const name = await table(
    db,
    'id BIGINT AUTO_INCREMENT PRIMARY KEY, qty BIGINT, small SMALLINT, px DECIMAL(14,4), at DATETIME(3), ts TIMESTAMP(3) NULL, d DATE, b BLOB, f DOUBLE, ok BOOLEAN, note VARCHAR(100), doc TEXT',
  )
  const r = await db.execute(
    `INSERT INTO ${name} (qty, small, px, at, ts, d, b, f, ok, note, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      9007199254740993n,
      7,
      '123.45',
      '2024-01-02 03:04:05.678',
      new Date('2024-01-02T03:04:05.678Z'),
      '2024-02-29',
      Buffer.from([0, 1, 255]),
      0.25,
      true,
      "x'); DROP TABLE users; --",
      { side: 'buy' },
    ],
  )
  t.deepEqual(r, { rowsAffected: 1, lastInsertId: 1 })
  const [row] = await db.query(`SELECT qty, small, px, at, ts, d, b, f, ok, note, doc, NULL AS n FROM ${name} WHERE id = ?`, [1])
  t.deepEqual(row, {
    qty: '9007199254740993',
    small: 7,
    px: '123.4500',
    at: '2024-01-02T03:04:05.678',
    ts: '2024-01-02T03:04:05.678Z',
    d: '2024-02-29',
    b: Buffer.from([0, 1, 255]),
    f: 0.25,
    ok: 1,
    note: "x'); DROP TABLE users; --",
    doc: '{"side":"buy"}',
    n: null,
  })
  const update = await db.execute(`UPDATE ${name} SET qty = qty + 1`)
  t.deepEqual(update, { rowsAffected: 1, lastInsertId: null })
})

myTest('constraint violations and syntax errors carry the MySQL code and do not trip', async (t) => {
  const db = make({ failureThreshold: 1 })
  const name = await table(db, 'sym VARCHAR(10) NOT NULL UNIQUE')
  await db.execute(`INSERT INTO ${name} VALUES (?)`, ['AAPL'])
  const dup = await t.throwsAsync(db.execute(`INSERT INTO ${name} VALUES (?)`, ['AAPL']), {
    instanceOf: DatabaseError,
    code: 'ERR_DB_CONSTRAINT',
  })
  t.is(dup.sqlState, '23000')
  t.is(dup.dbCode, '1062')
  const syntax = await t.throwsAsync(db.query('SELEKT 1'), { code: 'ERR_DB_QUERY' })
  t.is(syntax.dbCode, '1064')
  t.is(db.state, 'CLOSED')
  t.is(db.getMetrics().failedCalls, 0)
})

myTest('transactions commit and roll back; nothing half-written', async (t) => {
  const db = make()
  const name = await table(db, 'n INT PRIMARY KEY')
  await db.transaction(async (tx) => {
    await tx.execute(`INSERT INTO ${name} VALUES (?)`, [1])
    await tx.execute(`INSERT INTO ${name} VALUES (?)`, [2])
  })
  await t.throwsAsync(
    db.transaction(async (tx) => {
      await tx.execute(`INSERT INTO ${name} VALUES (?)`, [3])
      await tx.execute(`INSERT INTO ${name} VALUES (?)`, [1])
    }),
    { code: 'ERR_DB_CONSTRAINT' },
  )
  t.deepEqual(await db.query(`SELECT n FROM ${name} ORDER BY n`), [{ n: 1 }, { n: 2 }])
})

myTest('a transaction that outlives the timeout is rolled back', async (t) => {
  const db = make({ timeout: 300 })
  const name = await table(db, 'n INT')
  await t.throwsAsync(
    db.transaction(async (tx) => {
      await tx.execute(`INSERT INTO ${name} VALUES (1)`)
      await tx.query('SELECT SLEEP(2)')
    }),
    { instanceOf: CircuitTimeoutError },
  )
  t.deepEqual(await db.query(`SELECT n FROM ${name}`), [])
})

myTest('an exhausted pool trips the breaker', async (t) => {
  const db = make({ maxConnections: 1, acquireTimeout: 100, failureThreshold: 1 })
  const seen = await db.transaction(async (tx) => {
    await tx.query('SELECT 1')
    return settle(db.query('SELECT 1'))
  })
  t.is(seen.reason.code, 'ERR_DB_POOL_TIMEOUT')
  t.is(db.state, 'OPEN')
})

myTest('a database name that does not exist (1049, ER_BAD_DB_ERROR) is a connection failure that trips', async (t) => {
  const u = new URL(url)
  u.pathname = '/nt_no_such_database'
  const db = make({ url: u.toString(), acquireTimeout: 2000, failureThreshold: 1 })
  const err = await t.throwsAsync(db.query('SELECT 1'), { instanceOf: DatabaseError, code: 'ERR_DB_CONNECTION' })
  t.is(err.dbCode, '1049', err.message)
  t.is(db.state, 'OPEN')
})

myTest('connections kept between queries serve transactions and queries mixed, with every connection busy', async (t) => {
  const db = make({ maxConnections: 2, acquireTimeout: 3000 })
  const name = await table(db, 'id int PRIMARY KEY')
  await Promise.all([db.query('SELECT SLEEP(0.05) AS s'), db.query('SELECT SLEEP(0.05) AS s')])
  const work = []
  for (let i = 0; i < 12; i++) {
    work.push(
      i % 3 === 0
        ? db.transaction(async (tx) => {
            await tx.execute(`INSERT INTO ${name} VALUES (?)`, [i])
            return (await tx.query(`SELECT count(*) AS n FROM ${name} WHERE id = ?`, [i]))[0].n
          })
        : db.query('SELECT ? AS i, SLEEP(0.01) AS s', [i]).then((rows) => Number(rows[0].i)),
    )
  }
  t.deepEqual((await Promise.all(work)).map(Number), [1, 1, 2, 1, 4, 5, 1, 7, 8, 1, 10, 11])
  t.deepEqual(await db.query(`SELECT id FROM ${name} ORDER BY id`), [{ id: 0 }, { id: 3 }, { id: 6 }, { id: 9 }])
  t.is(db.getMetrics().failedCalls, 0)
})
