'use strict'
// The soak run (`npm run soak`, 10 minutes; `npm run soak -- --duration 60` in CI): breakers of
// every kind created, used and closed in a loop, while the process's RSS, file descriptors and
// threads and the servers' open connections are sampled. A leak shows as growth after the
// warm-up; the run fails (exit 1) when a figure grows past its limit, and prints the samples.
//
// Kinds: CircuitBreaker (a call each, registered and removed), ApiCircuitBreaker (a GET to a
// local server, then close), DatabaseCircuitBreaker on an SQLite file and in memory (a query and
// a transaction, then close), on PostgreSQL and MySQL when DATABASE_URL / MYSQL_URL are set,
// E2BSandboxCircuitBreaker and remote NeuralCircuitBreaker (made and closed). Each server's
// connections are counted through one long-lived breaker of its own (one connection, constant).

const fs = require('node:fs')
const http = require('node:http')
const os = require('node:os')
const path = require('node:path')
const {
  ApiCircuitBreaker,
  CircuitBreaker,
  CircuitBreakerRegistry,
  DatabaseCircuitBreaker,
  E2BSandboxCircuitBreaker,
  NeuralCircuitBreaker,
} = require('..')

const argv = process.argv.slice(2)
const arg = (name, fallback) => {
  const i = argv.indexOf(`--${name}`)
  return i >= 0 ? Number(argv[i + 1]) : fallback
}
const DURATION_S = arg('duration', 600)
const SAMPLE_MS = 2000
const PER_ROUND = 10
// Growth allowed between the end of the warm-up (a fifth of the run) and the end.
const LIMITS = { rssMiB: 64, fds: 16, threads: 4, http: 2, postgres: 2, mysql: 2 }

const count = (dir) => fs.readdirSync(dir).length
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'neural-trader-soak-'))

function startServer() {
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json')
    res.end('{"ok":true}')
  })
  server.keepAliveTimeout = 120_000 // idle sockets stay unless the client closes them
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

const connections = (server) => new Promise((resolve) => server.getConnections((_, n) => resolve(n)))

async function serverCount(observer, sql) {
  if (observer === null) return null
  const [row] = await observer.query(sql)
  return Number(Object.values(row)[0])
}

async function round(n, base, urls) {
  const registry = new CircuitBreakerRegistry()
  const work = []
  for (let i = 0; i < PER_ROUND; i++) {
    const name = `soak-${n}-${i}`
    const cb = registry.register(name, { failureThreshold: 3 })
    work.push(cb.call(async () => i).then(() => registry.remove(name)))
    work.push(
      (async () => {
        const api = new ApiCircuitBreaker(name, { baseUrl: base })
        await api.get('json')
        await api.close()
      })(),
    )
    for (const url of [`sqlite://${path.join(tmp, `soak-${i}.db`)}`, undefined, ...urls]) {
      work.push(
        (async () => {
          const db = new DatabaseCircuitBreaker(name, url === undefined ? undefined : { url })
          await db.query('SELECT 1 AS one')
          await db.transaction((tx) => tx.query('SELECT 2 AS two'))
          await db.close()
        })(),
      )
    }
    work.push(new E2BSandboxCircuitBreaker({ name, apiKey: null, sandboxUrl: base }).close())
    work.push(new NeuralCircuitBreaker(name, { endpoint: base }).close())
  }
  await Promise.all(work)
}

async function main() {
  const server = await startServer()
  const base = `http://127.0.0.1:${server.address().port}/`
  const pgUrl = process.env.DATABASE_URL
  const myUrl = process.env.MYSQL_URL
  const observers = {
    postgres: pgUrl ? new DatabaseCircuitBreaker('soak-observer-pg', { url: pgUrl, maxConnections: 1 }) : null,
    mysql: myUrl ? new DatabaseCircuitBreaker('soak-observer-mysql', { url: myUrl, maxConnections: 1 }) : null,
  }
  for (const [kind, url] of [['PostgreSQL', pgUrl], ['MySQL', myUrl]]) {
    if (!url) console.log(`${kind}: skipped (set ${kind === 'PostgreSQL' ? 'DATABASE_URL' : 'MYSQL_URL'})`)
  }
  const samples = []
  const sample = async (rounds) => {
    global.gc?.()
    samples.push({
      s: Math.round(process.uptime()),
      rounds,
      rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
      fds: count('/proc/self/fd'),
      threads: count('/proc/self/task'),
      http: await connections(server),
      postgres: await serverCount(
        observers.postgres,
        "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'neural-trader-soak'",
      ),
      mysql: await serverCount(
        observers.mysql,
        "SELECT VARIABLE_VALUE AS n FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'THREADS_CONNECTED'",
      ),
    })
  }
  // The soak's own PostgreSQL connections carry an application_name, so that other clients of the
  // same database do not count.
  const tagged = (url, name) => `${url}${url.includes('?') ? '&' : '?'}application_name=${name}`
  const urls = [pgUrl && tagged(pgUrl, 'neural-trader-soak'), myUrl].filter(Boolean)
  const end = Date.now() + DURATION_S * 1000
  let rounds = 0
  let next = Date.now()
  while (Date.now() < end) {
    await round(rounds++, base, urls)
    if (Date.now() >= next) {
      await sample(rounds)
      next = Date.now() + SAMPLE_MS
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 500)) // closes land
  await sample(rounds)
  console.table(samples)
  const warm = samples[Math.floor(samples.length / 5)]
  const last = samples[samples.length - 1]
  const over = Object.entries(LIMITS).filter(
    ([key, limit]) => last[key] !== null && warm[key] !== null && last[key] - warm[key] > limit,
  )
  console.log(
    `${rounds} rounds of ${PER_ROUND} breakers of each kind in ${DURATION_S} s; growth after warm-up: ` +
      Object.keys(LIMITS)
        .filter((key) => last[key] !== null)
        .map((key) => `${key} ${last[key] - warm[key]} (limit ${LIMITS[key]})`)
        .join(', '),
  )
  await Promise.all(Object.values(observers).map((o) => o?.close()))
  server.close()
  fs.rmSync(tmp, { recursive: true, force: true })
  if (over.length > 0) {
    console.error(`soak: grew past its limit: ${over.map(([key]) => key).join(', ')}`)
    process.exit(1)
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
