'use strict'
// Faults mid-traffic against the real servers: the server's backends are terminated (PostgreSQL
// `pg_terminate_backend`, MariaDB `KILL`) while hundreds of queries are in flight. Every call
// settles, is counted exactly once, every settled insert is a row, and once the killing stops
// the breaker serves again (it may have opened: it must close).
const test = require('ava')

const { DatabaseCircuitBreaker } = require('../resilience.js')
const { uniqueName } = require('./_helpers.js')
const { serverUrl } = require('./_database.js')

const pgUrl = serverUrl('DATABASE_URL')
const myUrl = serverUrl('MYSQL_URL')
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const SERVERS = [
  {
    label: 'PostgreSQL',
    url: pgUrl,
    env: 'DATABASE_URL',
    create: (t) => `CREATE TABLE ${t} (id bigint PRIMARY KEY)`,
    insert: (t) => `INSERT INTO ${t} (id) VALUES ($1)`,
    // The breaker's own connections, found by an application_name of their own.
    tag: (url, app) => `${url}${url.includes('?') ? '&' : '?'}application_name=${app}`,
    victims: (app) => [`SELECT pg_terminate_backend(pid) AS n FROM pg_stat_activity WHERE application_name = '${app}'`],
  },
  {
    label: 'MariaDB',
    url: myUrl,
    env: 'MYSQL_URL',
    create: (t) => `CREATE TABLE ${t} (id bigint PRIMARY KEY)`,
    insert: (t) => `INSERT INTO ${t} (id) VALUES (?)`,
    tag: (url) => url,
    victims: null, // killed by the connection ids the breaker reports (below)
  },
]

for (const server of SERVERS) {
  const run = server.url ? test.serial : test.serial.skip
  if (!server.url) console.log(`database-faults: ${server.label} skipped (set ${server.env})`)
  run(`${server.label}: backends killed under 300 concurrent calls: each call counted once, no row lost or doubled, the breaker recovers`, async (t) => {
    const app = uniqueName('faults').replace(/[^a-z0-9_]/gi, '_').slice(0, 60)
    const table = `nt_faults_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
    const admin = new DatabaseCircuitBreaker(uniqueName('faults-admin'), { url: server.url, maxConnections: 2 })
    const db = new DatabaseCircuitBreaker(uniqueName('faults'), {
      url: server.tag(server.url, app),
      maxConnections: 8,
      failureThreshold: 3,
      resetTimeout: 100,
      timeout: 5000,
    })
    await admin.execute(server.create(table))
    try {
      // MariaDB has no application_name: the breaker's connections report their ids.
      const ids = new Set()
      const kill = async () => {
        if (server.victims) {
          for (const sql of server.victims(app)) await admin.query(sql)
        } else {
          for (const id of ids) await admin.execute(`KILL ${id}`).catch(() => {})
        }
      }
      let killing = true
      const killer = (async () => {
        while (killing) {
          await kill()
          await sleep(15)
        }
      })()
      let issued = 0
      const outcomes = await Promise.allSettled(
        Array.from({ length: 300 }, async (_, i) => {
          if (!server.victims && i % 10 === 0) {
            issued++
            const id = await db.query('SELECT CONNECTION_ID() AS id').then(([row]) => row.id, () => null)
            if (id !== null) ids.add(Number(id))
          }
          issued++
          await db.execute(server.insert(table), [i])
          return i
        }),
      )
      killing = false
      await killer
      const m = db.getMetrics()
      t.is(m.totalCalls, m.successfulCalls + m.failedCalls + m.rejectedCalls + m.ignoredCalls)
      t.is(m.totalCalls, issued, 'every call counted once')
      const inserted = outcomes.filter((o) => o.status === 'fulfilled').map((o) => o.value)
      for (const o of outcomes) if (o.status === 'rejected') t.truthy(o.reason.code, String(o.reason))
      // Every insert that resolved is a row; a rejected one may or may not have run (its fate
      // is the server's), but no id is there twice (the primary key would have refused it).
      const rows = await admin.query(`SELECT id FROM ${table}`)
      const stored = new Set(rows.map((r) => Number(r.id)))
      t.is(stored.size, rows.length)
      for (const id of inserted) t.true(stored.has(id), `insert ${id} resolved but is not stored`)
      t.log(`${inserted.length} of 300 inserts resolved, ${rows.length} rows, metrics ${JSON.stringify(m)}`)
      // With the killing over, the breaker serves again (after its reset timeout if it opened).
      let served = false
      for (let i = 0; i < 50 && !served; i++) {
        served = await db.query('SELECT 1 AS one').then(() => true, () => false)
        if (!served) await sleep(100)
      }
      t.true(served, 'the breaker serves again once the server is left alone')
      for (let i = 0; i < 2; i++) await db.query('SELECT 1 AS one') // closes a half-open circuit
      t.is(db.state, 'CLOSED')
    } finally {
      await admin.execute(`DROP TABLE IF EXISTS ${table}`)
      await db.close()
      await admin.close()
    }
  })
}
