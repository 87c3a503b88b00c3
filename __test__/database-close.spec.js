'use strict'
// DatabaseCircuitBreaker's connections: close() leaves none open (PostgreSQL, MariaDB, SQLite
// threads and files), a timeout cancels the statement on the server, a refused port fails at
// once with its cause, and a kept connection the server killed costs no failed call.
// Serial: the counts of connections, threads and fds must not see another test's.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const test = require('ava')

const { CircuitTimeoutError, DatabaseCircuitBreaker, DatabaseError } = require('../resilience.js')
const { uniqueName, settle } = require('./_helpers.js')
const { closedPort, serverUrl } = require('./_database.js')

const pgUrl = serverUrl('DATABASE_URL')
const myUrl = serverUrl('MYSQL_URL')
const pgTest = pgUrl ? test.serial : test.serial.skip
const myTest = myUrl ? test.serial : test.serial.skip

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** `url` with `application_name=app` (PostgreSQL counts the connections by it). */
function withApp(url, app) {
  return `${url}${url.includes('?') ? '&' : '?'}application_name=${app}`
}

/** Polls `count()` until it is `want` (or 50 tries); returns the last count. */
async function settleCount(count, want) {
  let n
  for (let i = 0; i < 50; i++) {
    n = await count()
    if (n === want) return n
    await sleep(100)
  }
  return n
}

/** Uses `db` once in one of three ways: a query awaited, a query in flight, a query timed out. */
async function useOnce(db, i, slowSql) {
  if (i % 3 === 0) await db.query('SELECT 1 AS one')
  else if (i % 3 === 1) db.query('SELECT 1 AS one').catch(() => {})
  else await settle(db.query(slowSql))
}

pgTest('60 PostgreSQL breakers used once and closed leave none of their connections open', async (t) => {
  const app = `nt_close_${process.pid}`
  const admin = new DatabaseCircuitBreaker(uniqueName('pg-admin'), { url: pgUrl })
  t.teardown(() => admin.close())
  const count = async () =>
    (await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [app]))[0].n
  const dbs = []
  for (let i = 0; i < 60; i++) {
    const db = new DatabaseCircuitBreaker(uniqueName('pg-close'), { url: withApp(pgUrl, app), maxConnections: 2, timeout: 200 })
    dbs.push(db)
    await useOnce(db, i, 'SELECT pg_sleep(5)')
  }
  await Promise.all(dbs.map((db) => db.close()))
  // close() resolves once every connection is closed: nothing of these breakers is left.
  t.is(await count(), 0)
  await t.throwsAsync(dbs[0].query('SELECT 1'), { instanceOf: DatabaseError, code: 'ERR_DB_CLOSED' })
  await dbs[0].close() // idempotent
})

pgTest('300 PostgreSQL breakers created, used and closed in a loop never run out of server connections', async (t) => {
  for (let i = 0; i < 300; i++) {
    const db = new DatabaseCircuitBreaker(uniqueName('pg-loop'), { url: pgUrl, maxConnections: 2 })
    db.query('SELECT 1').catch(() => {})
    t.deepEqual(await db.query('SELECT 2 AS two'), [{ two: 2 }])
    await db.close()
  }
  t.pass()
})

pgTest('close() rolls back an open transaction and waits for a running statement, cancelling it', async (t) => {
  const app = `nt_closetx_${process.pid}`
  const admin = new DatabaseCircuitBreaker(uniqueName('pg-admin'), { url: pgUrl })
  t.teardown(() => admin.close())
  const table = `nt_close_${process.pid}_${Date.now()}`
  await admin.execute(`CREATE TABLE ${table} (n int)`)
  t.teardown(() => admin.execute(`DROP TABLE IF EXISTS ${table}`))
  const db = new DatabaseCircuitBreaker(uniqueName('pg-closetx'), { url: withApp(pgUrl, app), maxConnections: 3, timeout: 30000 })
  let inTx
  const entered = new Promise((resolve) => (inTx = resolve))
  const tx = settle(
    db.transaction(async (tx) => {
      await tx.execute(`INSERT INTO ${table} VALUES (1)`)
      inTx()
      await sleep(500)
      return tx.query('SELECT 1')
    }),
  )
  const slow = settle(db.query('SELECT pg_sleep(20)'))
  await entered
  await sleep(100)
  await db[Symbol.asyncDispose]()
  const count = async () =>
    (await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [app]))[0].n
  t.is(await count(), 0)
  const [txResult, slowResult] = await Promise.all([tx, slow])
  t.is(txResult.status, 'rejected')
  t.is(txResult.reason.code, 'ERR_DB_CLOSED')
  t.is(slowResult.status, 'rejected')
  t.is(slowResult.reason.code, 'ERR_DB_CLOSED')
  t.deepEqual(await admin.query(`SELECT count(*)::int AS n FROM ${table}`), [{ n: 0 }])
})

pgTest('a PostgreSQL timeout cancels the statement on the server and the pool serves again', async (t) => {
  const app = `nt_cancel_${process.pid}`
  const admin = new DatabaseCircuitBreaker(uniqueName('pg-admin'), { url: pgUrl })
  t.teardown(() => admin.close())
  const db = new DatabaseCircuitBreaker(uniqueName('pg-cancel'), {
    url: withApp(pgUrl, app),
    maxConnections: 2,
    timeout: 300,
    failureThreshold: 100,
  })
  t.teardown(() => db.close())
  await t.throwsAsync(db.query('SELECT pg_sleep(6)'), { instanceOf: CircuitTimeoutError, code: 'ERR_CIRCUIT_TIMEOUT' })
  const active = async () =>
    (
      await admin.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND state = 'active' AND query LIKE '%pg_sleep%'",
        [app],
      )
    )[0].n
  t.is(await settleCount(active, 0), 0)
  for (let i = 0; i < 10; i++) {
    await t.throwsAsync(db.query('SELECT pg_sleep(6)'), { code: 'ERR_CIRCUIT_TIMEOUT' })
  }
  t.deepEqual(await db.query('SELECT 1 AS one'), [{ one: 1 }])
})

pgTest('PostgreSQL: kept connections the server terminated cost no failed call', async (t) => {
  const app = `nt_stale_${process.pid}`
  const admin = new DatabaseCircuitBreaker(uniqueName('pg-admin'), { url: pgUrl })
  t.teardown(() => admin.close())
  const db = new DatabaseCircuitBreaker(uniqueName('pg-stale'), { url: withApp(pgUrl, app), maxConnections: 4 })
  t.teardown(() => db.close())
  await Promise.all([1, 2, 3, 4].map(() => db.query('SELECT pg_sleep(0.05)::text')))
  const [{ n }] = await admin.query(
    "SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle'",
    [app],
  )
  t.true(n >= 1)
  for (let i = 0; i < 5; i++) t.deepEqual(await db.query('SELECT $1::int AS i', [i]), [{ i }])
  t.is(db.state, 'CLOSED')
  t.is(db.getMetrics().failedCalls, 0)
})

myTest('60 MariaDB breakers used once and closed leave none of their connections open', async (t) => {
  const admin = new DatabaseCircuitBreaker(uniqueName('my-admin'), { url: myUrl })
  t.teardown(() => admin.close())
  const ids = []
  const dbs = []
  for (let i = 0; i < 60; i++) {
    const db = new DatabaseCircuitBreaker(uniqueName('my-close'), { url: myUrl, maxConnections: 1, timeout: 200 })
    dbs.push(db)
    ids.push((await db.query('SELECT CONNECTION_ID() AS id'))[0].id)
    await useOnce(db, i, 'SELECT SLEEP(5)')
  }
  await Promise.all(dbs.map((db) => db.close()))
  const [{ n }] = await admin.query(
    `SELECT count(*) AS n FROM information_schema.processlist WHERE id IN (${ids.map(Number).join(',')})`,
  )
  t.is(Number(n), 0)
})

myTest('a MariaDB timeout kills the query on the server and the pool serves again', async (t) => {
  const admin = new DatabaseCircuitBreaker(uniqueName('my-admin'), { url: myUrl })
  t.teardown(() => admin.close())
  const db = new DatabaseCircuitBreaker(uniqueName('my-cancel'), { url: myUrl, maxConnections: 2, timeout: 300, failureThreshold: 100 })
  t.teardown(() => db.close())
  const [{ id }] = await db.query('SELECT CONNECTION_ID() AS id')
  await t.throwsAsync(db.query('SELECT SLEEP(6)'), { instanceOf: CircuitTimeoutError, code: 'ERR_CIRCUIT_TIMEOUT' })
  const busy = async () =>
    Number(
      (await admin.query("SELECT count(*) AS n FROM information_schema.processlist WHERE id = ? AND info LIKE 'SELECT SLEEP%'", [id]))[0].n,
    )
  t.is(await settleCount(busy, 0), 0)
  for (let i = 0; i < 10; i++) {
    await t.throwsAsync(db.query('SELECT SLEEP(6)'), { code: 'ERR_CIRCUIT_TIMEOUT' })
  }
  t.deepEqual(await db.query('SELECT 1 AS one'), [{ one: 1 }])
})

myTest('MariaDB: kept connections the server killed cost no failed call', async (t) => {
  const admin = new DatabaseCircuitBreaker(uniqueName('my-admin'), { url: myUrl })
  t.teardown(() => admin.close())
  const db = new DatabaseCircuitBreaker(uniqueName('my-stale'), { url: myUrl, maxConnections: 4 })
  t.teardown(() => db.close())
  const ids = new Set()
  const rows = await Promise.all([1, 2, 3, 4].map(() => db.query('SELECT CONNECTION_ID() AS id, SLEEP(0.05) AS s')))
  for (const [{ id }] of rows) ids.add(Number(id))
  for (const id of ids) await admin.execute(`KILL ${id}`)
  for (let i = 0; i < 25; i++) t.is(Number((await db.query('SELECT ? AS i', [i]))[0].i), i)
  t.is(db.state, 'CLOSED')
  t.is(db.getMetrics().failedCalls, 0)
})

test.serial('a refused port fails at once with ERR_DB_CONNECTION naming the cause', async (t) => {
  const port = await closedPort()
  for (const scheme of ['postgres', 'mysql']) {
    const db = new DatabaseCircuitBreaker(uniqueName('refused'), {
      url: `${scheme}://trader:Sup3rS3cret@127.0.0.1:${port}/db`,
      acquireTimeout: 30000,
    })
    const err = await t.throwsAsync(db.query('SELECT 1'), { instanceOf: DatabaseError, code: 'ERR_DB_CONNECTION' })
    t.regex(err.message, /refused/i)
    t.false(err.message.includes('Sup3rS3cret'))
    await db.close()
  }
})

test.serial('an unknown host fails at once with ERR_DB_CONNECTION naming the cause', async (t) => {
  const db = new DatabaseCircuitBreaker(uniqueName('nxdomain'), {
    url: 'postgres://trader@no-such-host.invalid:5432/db',
    acquireTimeout: 30000,
  })
  const err = await t.throwsAsync(db.query('SELECT 1'), { instanceOf: DatabaseError, code: 'ERR_DB_CONNECTION' })
  t.regex(err.message, /lookup|resolve|name/i)
  await db.close()
})

/** Threads and open files of this process. */
const threads = () => fs.readdirSync('/proc/self/task').length
const fds = () => fs.readdirSync('/proc/self/fd').length

test.serial('SQLite file databases closed release their threads and files', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nt-close-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  // Warm up (the runtime's own threads), then the baseline.
  const warm = new DatabaseCircuitBreaker(uniqueName('warm'), { url: `sqlite://${path.join(dir, 'warm.db')}` })
  await warm.query('SELECT 1')
  await warm.close()
  const baseThreads = threads()
  const baseFds = fds()
  const dbs = []
  for (let i = 0; i < 60; i++) {
    const db = new DatabaseCircuitBreaker(uniqueName('sqlite-close'), {
      url: `sqlite://${path.join(dir, `db${i}.db`)}`,
      maxConnections: 3,
      timeout: 300,
    })
    dbs.push(db)
    await db.execute('CREATE TABLE IF NOT EXISTS t (n INTEGER)')
    // A statement that runs for minutes unless interrupted.
    await useOnce(db, i, 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c')
  }
  t.true(threads() > baseThreads)
  await Promise.all(dbs.map((db) => db.close()))
  // Worker threads exit right after their connection is closed.
  t.true((await settleCount(threads, baseThreads)) <= baseThreads + 2, `threads ${threads()} vs ${baseThreads}`)
  t.true(fds() <= baseFds + 2, `fds ${fds()} vs ${baseFds}`)
})

test.serial('a SQLite timeout interrupts the statement and the connection serves again', async (t) => {
  const db = new DatabaseCircuitBreaker(uniqueName('sqlite-interrupt'), { timeout: 200, failureThreshold: 100 })
  t.teardown(() => db.close())
  for (let i = 0; i < 3; i++) {
    await t.throwsAsync(
      db.query('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c'),
      { code: 'ERR_CIRCUIT_TIMEOUT' },
    )
  }
  // The in-memory database has one connection: it is free again only if the statement stopped.
  t.deepEqual(await db.query('SELECT 1 AS one'), [{ one: 1 }])
})
