'use strict'
// `npm run bench:db`: DatabaseCircuitBreaker.query of 100 rows against the usual Node.js
// stacks, each wrapped in opossum 10 with default options:
//   PostgreSQL (DATABASE_URL, default the CI server): pg 8 Pool.query, unnamed statement (what
//     most code does) and named prepared statement (what we do: sqlx caches prepared
//     statements per connection);
//   SQLite in memory: better-sqlite3 12 prepared `.all()` (synchronous, in the JS thread).
// Method: each strategy runs `CALLS` queries per repetition, one at a time (latency) and
// `IN_FLIGHT` at a time (throughput); repetitions are interleaved (the order rotates), and the
// median of `REPS` repetitions is reported. Writes bench/DATABASE_RESULTS.md.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { performance } = require('node:perf_hooks')
const Opossum = require('opossum')
const pg = require('pg')
const Sqlite = require('better-sqlite3')
const { DatabaseCircuitBreaker } = require('..')

const REPS = Number(process.env.BENCH_REPS ?? 11)
const CALLS = Number(process.env.BENCH_CALLS ?? 300)
const IN_FLIGHT = 8
const ROWS = 100
const BASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test'
// Both clients on the same transport. pg uses no TLS unless asked to; sqlx (like libpq) uses
// TLS whenever the server offers it (sslmode=prefer, its default), and the server here does.
const PG_URL = /[?&]sslmode=/.test(BASE_URL) ? BASE_URL : `${BASE_URL}${BASE_URL.includes('?') ? '&' : '?'}sslmode=disable`
const TABLE = `nt_bench_${process.pid}`

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

async function timeIt(run, calls, inFlight) {
  const start = performance.now()
  if (inFlight === 1) {
    for (let i = 0; i < calls; i++) await run()
  } else {
    for (let i = 0; i < calls; i += inFlight) {
      const batch = []
      for (let j = 0; j < inFlight; j++) batch.push(run())
      await Promise.all(batch)
    }
  }
  return ((performance.now() - start) * 1000) / calls // µs per query
}

async function measure(strategies) {
  const results = {}
  for (const mode of [1, IN_FLIGHT]) {
    const samples = Object.fromEntries(strategies.map((s) => [s.name, []]))
    for (const s of strategies) await timeIt(s.run, Math.min(CALLS, 100), mode) // warm-up
    for (let rep = 0; rep < REPS; rep++) {
      const order = strategies.map((_, i) => strategies[(i + rep) % strategies.length])
      for (const s of order) samples[s.name].push(await timeIt(s.run, CALLS, mode))
    }
    results[mode] = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]))
  }
  return results
}

function check(rows, label) {
  if (!Array.isArray(rows) || rows.length !== ROWS) throw new Error(`${label}: expected ${ROWS} rows, got ${rows?.length}`)
}

async function benchPostgres() {
  const pool = new pg.Pool({ connectionString: PG_URL, max: 10 })
  try {
    await pool.query('SELECT 1')
  } catch (e) {
    await pool.end()
    return { skipped: `PostgreSQL not reachable at ${PG_URL.replace(/\/\/[^@]*@/, '//***@')}: ${e.message}` }
  }
  await pool.query(`CREATE TABLE ${TABLE} (id bigint PRIMARY KEY, symbol text, qty integer, px double precision, note text)`)
  await pool.query(
    `INSERT INTO ${TABLE} SELECT g, 'SYM' || g, g * 10, g * 1.25, 'note number ' || g FROM generate_series(1, ${ROWS}) g`,
  )
  const sql = `SELECT id, symbol, qty, px, note FROM ${TABLE} WHERE id > $1 ORDER BY id LIMIT ${ROWS}`
  const db = new DatabaseCircuitBreaker('bench_pg', { url: PG_URL, maxConnections: 10 })
  const plain = new Opossum((text, values) => pool.query(text, values))
  const named = new Opossum((values) => pool.query({ name: 'nt_bench_q', text: sql, values }))
  check(await db.query(sql, [0]), 'ours')
  check((await plain.fire(sql, [0])).rows, 'pg')
  check((await named.fire([0])).rows, 'pg named')
  try {
    return await measure([
      { name: 'ours', run: () => db.query(sql, [0]) },
      { name: 'pg+opossum', run: () => plain.fire(sql, [0]) },
      { name: 'pg+opossum (named)', run: () => named.fire([0]) },
    ])
  } finally {
    await pool.query(`DROP TABLE IF EXISTS ${TABLE}`)
    await pool.end()
    await db.close()
    plain.shutdown()
    named.shutdown()
  }
}

async function benchSqlite() {
  const create = 'CREATE TABLE t (id INTEGER PRIMARY KEY, symbol TEXT, qty INTEGER, px REAL, note TEXT)'
  const fill = `WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < ${ROWS})
    INSERT INTO t SELECT x, 'SYM' || x, x * 10, x * 1.25, 'note number ' || x FROM g`
  const sql = `SELECT id, symbol, qty, px, note FROM t WHERE id > $1 ORDER BY id LIMIT ${ROWS}`
  const db = new DatabaseCircuitBreaker('bench_sqlite')
  await db.execute(create)
  await db.execute(fill)
  const lite = new Sqlite(':memory:')
  lite.exec(create)
  lite.exec(fill)
  const stmt = lite.prepare(sql.replace('$1', '?'))
  const wrapped = new Opossum((id) => stmt.all(id))
  check(await db.query(sql, [0]), 'ours')
  check(await wrapped.fire(0), 'better-sqlite3')
  try {
    return await measure([
      { name: 'ours', run: () => db.query(sql, [0]) },
      { name: 'better-sqlite3+opossum', run: () => wrapped.fire(0) },
    ])
  } finally {
    await db.close()
    lite.close()
    wrapped.shutdown()
  }
}

const NOTES = `## Where the time goes

- Both clients connect without TLS (\`sslmode=disable\` is added to the URL when it names no
  sslmode): pg uses no TLS unless asked to, while ours (sqlx, like libpq) uses TLS whenever the
  server offers it, and the server here does.
- pg does everything on the JS thread: it writes the query, parses the text rows in JavaScript
  and builds the row objects. Ours sends the query from the JS thread too (the call's first
  poll runs there), a Tokio thread reads and decodes the binary rows and renders them as one flat
  JSON array, and the JS thread parses it (\`JSON.parse\`) and builds the rows with a constructor
  made once per column list. That is one thread hand-off more than pg per query (the runtime
  thread that saw the reply wakes the JS thread) and less work on the JS thread; sqlx's cached
  prepared statements need one round trip with binary rows.
- A connection whose query succeeded is kept for the next query: sqlx would ping every connection
  handed back to its pool (one more server round trip per query). Connections idle for 1 s or
  more are pinged before use.
- In Rust alone (no JS), 100 rows rendered for JS (\`query_js\`) take ~184 µs, as long as with a
  bare sqlx pool; decoding them to the value model and rendering that takes ~206 µs
  (\`cargo run --release -p neural-trader-clients --features database-postgres --example pg_query_timing\`).
- The spread between runs is large on a 2-core machine shared with other work: compare the ratios
  of one run (the repetitions are interleaved), not absolute times across runs.
- better-sqlite3 runs the query synchronously on the JS thread with no hand-off at all; sqlx's
  SQLite driver runs each connection on a worker thread and sends every row over a channel, so an
  in-memory SQLite query pays thread hand-offs per row. better-sqlite3 is the faster choice when
  the database is local and blocking the event loop is acceptable.
`

const fmt = (us) => `${us.toFixed(1)} µs`
const ratio = (ours, theirs) => `${(theirs / ours).toFixed(2)}x`

function section(title, res, peers) {
  if (res.skipped) return `## ${title}\n\nSkipped: ${res.skipped}\n`
  const lines = [`## ${title}`, '', '| mode | ours | ' + peers.join(' | ') + ' | ' + peers.map((p) => `speed vs ${p}`).join(' | ') + ' |']
  lines.push('|---|---:|' + peers.map(() => '---:|').join('') + peers.map(() => '---:|').join(''))
  for (const mode of [1, IN_FLIGHT]) {
    const r = res[mode]
    const label = mode === 1 ? 'one at a time (µs/query)' : `${IN_FLIGHT} in flight (µs/query)`
    lines.push(`| ${label} | ${fmt(r.ours)} | ${peers.map((p) => fmt(r[p])).join(' | ')} | ${peers.map((p) => ratio(r.ours, r[p])).join(' | ')} |`)
  }
  return lines.join('\n') + '\n'
}

async function main() {
  const loadBefore = os.loadavg()[0]
  const pgRes = await benchPostgres()
  const liteRes = await benchSqlite()
  const loadAfter = os.loadavg()[0]
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU'
  const out = [
    '# DatabaseCircuitBreaker benchmark',
    '',
    `Node ${process.version}, ${cpu}, ${os.cpus().length} vCPUs, ${os.platform()}; pg ${require('pg/package.json').version}, better-sqlite3 ${require('better-sqlite3/package.json').version}, opossum ${require('opossum/package.json').version}.`,
    `Load average (1 min) before / after the run: ${loadBefore.toFixed(2)} / ${loadAfter.toFixed(2)} (other processes on the machine skew the thread hand-offs of ours more than pg's single thread).`,
    `\`npm run bench:db\`: ${ROWS} rows (bigint, text, integer, float8, text) per query, ${CALLS} queries per repetition, median of ${REPS} interleaved repetitions. "speed vs X" is X's time / ours (>= 1: we are faster).`,
    '',
    section('PostgreSQL (local server)', pgRes, ['pg+opossum', 'pg+opossum (named)']),
    section('SQLite (in memory)', liteRes, ['better-sqlite3+opossum']),
    NOTES,
  ].join('\n')
  fs.writeFileSync(path.join(__dirname, 'DATABASE_RESULTS.md'), out)
  console.log(out)
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
