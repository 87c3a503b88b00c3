'use strict'
const test = require('ava')
const { spawnSync } = require('node:child_process')
const path = require('node:path')

const entry = JSON.stringify(path.join(__dirname, '..', 'resilience.js'))

function runScript(source) {
  const started = process.hrtime.bigint()
  const result = spawnSync(process.execPath, ['-e', source], { encoding: 'utf8', timeout: 20000 })
  return { ...result, ms: Number(process.hrtime.bigint() - started) / 1e6 }
}

test('creating breakers and leaving them keeps no timer or handle alive', (t) => {
  const r = runScript(`
    const { CircuitBreaker, CircuitBreakerRegistry } = require(${entry})
    const kept = []
    for (let i = 0; i < 1000; i++) kept.push(new CircuitBreaker('exit-' + i, { timeout: 60000, resetTimeout: 600000 }))
    CircuitBreakerRegistry.global().getOrCreate('exit-global')
    new CircuitBreakerRegistry().register('exit-private')
    // A call through each breaker, including ones that open the circuit with a long reset.
    let settledAt
    Promise.all(kept.map((cb, i) => cb.call(() => (i % 2 ? 1 : Promise.reject(new Error('x')))).catch(() => {})))
      .then(() => { settledAt = Date.now() })
    process.on('exit', () => console.log(Date.now() - settledAt))
  `)
  t.is(r.status, 0, r.stderr)
  // The only timer is the shared timeout tick, which stops at its next tick (10 ms) once no
  // timed call is pending.
  const lingerMs = Number(r.stdout.trim())
  t.true(lingerMs >= 0 && lingerMs < 500, `exited ${lingerMs} ms after the last call settled`)
})

test('a process exits while an open breaker is waiting out its reset timeout', (t) => {
  const r = runScript(`
    const { CircuitBreaker } = require(${entry})
    const cb = new CircuitBreaker('exit-open', { failureThreshold: 1, resetTimeout: 3600000 })
    cb.call(() => { throw new Error('down') }).catch(() => console.log(cb.state))
  `)
  t.is(r.status, 0, r.stderr)
  t.is(r.stdout.trim(), 'OPEN')
})

test('a pending domain call keeps the process alive until it settles; afterwards nothing does', (t) => {
  const r = runScript(`
    const { DatabaseCircuitBreaker } = require(${entry})
    const db = new DatabaseCircuitBreaker('exit-db')
    let settledAt
    db.query("WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < 200000) SELECT count(*) AS n FROM g")
      .then((rows) => { settledAt = Date.now(); console.log(rows[0].n) })
    // Rejected without leaving the JS thread (a bad argument): settles all the same.
    db.query('SELECT \\0').catch((e) => console.log(e.code))
    process.on('exit', () => console.log(Date.now() - settledAt))
  `)
  t.is(r.status, 0, r.stderr)
  const [code, n, lingerMs] = r.stdout.trim().split('\n')
  t.is(code, 'ERR_INVALID_ARG_VALUE')
  t.is(n, '200000')
  t.true(Number(lingerMs) >= 0 && Number(lingerMs) < 500, `exited ${lingerMs} ms after the query settled`)
})
