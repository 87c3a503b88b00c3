'use strict'
const test = require('ava')
const { CircuitBreaker, CircuitOpenError, CircuitTimeoutError } = require('../resilience.js')
const { sleep, uniqueName, deferred, settle, failTimes, readyToProbe } = require('./_helpers.js')

// When a "late" fn settles: far past the 50 ms timeouts used here, so that the call times out even
// when the event loop lags on a loaded machine (deadline.spec.js shows why lag matters).
const LATE_MS = 400

async function openBreaker(name, options = {}) {
  const cb = new CircuitBreaker(name, { failureThreshold: 1, resetTimeout: 60000, ...options })
  await failTimes(cb, 1)
  return cb
}

test('an open circuit rejects with a CircuitOpenError: code, exact message, breaker name', async (t) => {
  const name = uniqueName('err-open')
  const cb = await openBreaker(name)
  const { status, reason } = await settle(cb.call(() => 1))
  t.is(status, 'rejected')
  t.true(reason instanceof CircuitOpenError)
  t.true(reason instanceof Error)
  t.false(reason instanceof CircuitTimeoutError)
  t.is(reason.code, 'ERR_CIRCUIT_OPEN')
  t.is(reason.message, `Circuit breaker '${name}' is OPEN`)
  t.is(reason.name, 'CircuitOpenError')
  t.is(reason.breaker, name)
  t.is(Object.prototype.toString.call(reason), '[object Error]')
})

test('the open message uses the name verbatim (quotes, spaces, unicode)', async (t) => {
  for (const name of [`it's "quoted" ${uniqueName('q')}`, `  spaced  ${uniqueName('s')}`, `ünï-código-😀-${uniqueName('u')}`]) {
    const cb = await openBreaker(name)
    const { reason } = await settle(cb.call(() => 1))
    t.is(reason.message, `Circuit breaker '${name}' is OPEN`)
    t.is(reason.breaker, name)
    t.is(cb.name, name)
  }
})

test('each rejection is its own error object', async (t) => {
  const cb = await openBreaker(uniqueName('err-distinct'))
  const a = await settle(cb.call(() => 1))
  const b = await settle(cb.call(() => 1))
  t.not(a.reason, b.reason)
  t.is(a.reason.message, b.reason.message)
})

test('a half-open circuit with every probe slot taken rejects with the same CircuitOpenError', async (t) => {
  const cb = await readyToProbe('err-full', { halfOpenMaxCalls: 1, successThreshold: 1 })
  const held = deferred()
  const probe = cb.call(() => held.promise)
  t.is(cb.state, 'HALF_OPEN')
  const { reason } = await settle(cb.call(() => 1))
  t.true(reason instanceof CircuitOpenError)
  t.is(reason.code, 'ERR_CIRCUIT_OPEN')
  t.is(reason.message, `Circuit breaker '${cb.name}' is OPEN`)
  t.is(reason.breaker, cb.name)
  held.resolve('ok')
  t.is(await probe, 'ok')
})

test('a fn that never settles rejects with a CircuitTimeoutError after the timeout', async (t) => {
  const name = uniqueName('err-timeout')
  const cb = new CircuitBreaker(name, { timeout: 50 })
  const started = Date.now()
  const { status, reason } = await settle(cb.call(() => new Promise(() => {})))
  const elapsed = Date.now() - started
  t.is(status, 'rejected')
  t.true(reason instanceof CircuitTimeoutError)
  t.true(reason instanceof Error)
  t.false(reason instanceof CircuitOpenError)
  t.is(reason.code, 'ERR_CIRCUIT_TIMEOUT')
  t.is(reason.name, 'CircuitTimeoutError')
  t.is(reason.breaker, name)
  t.is(reason.timeout, 50)
  t.is(reason.message, `Circuit breaker '${name}' timed out after 50 ms`)
  t.true(elapsed >= 45, `not early: ${elapsed} ms`)
  t.like(cb.getMetrics(), { totalCalls: 1, failedCalls: 1, successfulCalls: 0 })
})

test('a fn that resolves after the timeout: the call times out, the late value is ignored, counted once as failed', async (t) => {
  const cb = new CircuitBreaker(uniqueName('err-late-ok'), { timeout: 50, failureThreshold: 5 })
  let lateDone = false
  const { reason } = await settle(
    cb.call(() => new Promise((resolve) => setTimeout(() => {
      lateDone = true
      resolve('too late')
    }, LATE_MS))),
  )
  t.true(reason instanceof CircuitTimeoutError)
  await sleep(LATE_MS + 100)
  t.true(lateDone)
  t.like(cb.getMetrics(), { totalCalls: 1, failedCalls: 1, successfulCalls: 0 })
})

test('a fn that rejects after the timeout: the late error is ignored, counted once as failed', async (t) => {
  const cb = new CircuitBreaker(uniqueName('err-late-fail'), { timeout: 50, failureThreshold: 2 })
  const { reason } = await settle(
    cb.call(() => new Promise((_, reject) => setTimeout(() => reject(new Error('late')), LATE_MS))),
  )
  t.true(reason instanceof CircuitTimeoutError)
  await sleep(LATE_MS + 100)
  t.like(cb.getMetrics(), { totalCalls: 1, failedCalls: 1, successfulCalls: 0 })
  t.is(cb.state, 'CLOSED', 'one failure of two: the late rejection is not a second failure')
})

test('a thenable that never settles times out too', async (t) => {
  const cb = new CircuitBreaker(uniqueName('err-thenable-timeout'), { timeout: 40 })
  const { reason } = await settle(cb.call(() => ({ then() {} })))
  t.true(reason instanceof CircuitTimeoutError)
})

test('a fn that settles before the timeout is not affected by it', async (t) => {
  const cb = new CircuitBreaker(uniqueName('err-in-time'), { timeout: 300 })
  t.is(await cb.call(() => new Promise((resolve) => setTimeout(() => resolve('in time'), 20))), 'in time')
  const err = new Error('in time failure')
  t.is((await settle(cb.call(() => new Promise((_, reject) => setTimeout(() => reject(err), 20))))).reason, err)
  await sleep(400)
  t.like(cb.getMetrics(), { totalCalls: 2, successfulCalls: 1, failedCalls: 1 })
})

test('timeout: false lets a slow fn finish', async (t) => {
  const cb = new CircuitBreaker(uniqueName('err-no-timeout'), { timeout: false })
  t.is(await cb.call(() => new Promise((resolve) => setTimeout(() => resolve('slow'), 150))), 'slow')
})

test('many concurrent calls with different deadlines each time out on their own', async (t) => {
  const short = new CircuitBreaker(uniqueName('err-short'), { timeout: 30, failureThreshold: 1000 })
  const long = new CircuitBreaker(uniqueName('err-long'), { timeout: 400, failureThreshold: 1000 })
  const never = () => new Promise(() => {})
  const quick = () => new Promise((resolve) => setTimeout(() => resolve('quick'), 100))
  const results = await Promise.all([
    ...Array.from({ length: 20 }, () => settle(short.call(never))),
    ...Array.from({ length: 20 }, () => settle(long.call(quick))),
  ])
  t.true(results.slice(0, 20).every((r) => r.reason instanceof CircuitTimeoutError))
  t.true(results.slice(20).every((r) => r.value === 'quick'))
  t.like(short.getMetrics(), { failedCalls: 20, totalCalls: 20 })
  t.like(long.getMetrics(), { successfulCalls: 20, totalCalls: 20 })
})

test('synchronous results are never subject to the timeout', async (t) => {
  const cb = new CircuitBreaker(uniqueName('err-sync'), { timeout: 1 })
  const spin = () => {
    const end = Date.now() + 20
    while (Date.now() < end) {}
    return 'sync'
  }
  t.is(await cb.call(spin), 'sync')
})

test('call with a non-function rejects with a TypeError ERR_INVALID_ARG_TYPE', async (t) => {
  const cb = new CircuitBreaker(uniqueName('err-fn'))
  for (const bad of [undefined, null, 42, 'fn', {}, [], Promise.resolve(1), Symbol('s'), 10n, true]) {
    let p
    t.notThrows(() => {
      p = cb.call(bad)
    })
    const { status, reason } = await settle(p)
    t.is(status, 'rejected')
    t.true(reason instanceof TypeError)
    t.is(reason.code, 'ERR_INVALID_ARG_TYPE')
    t.regex(reason.message, /"fn" argument must be of type function/)
  }
  // A bad call on an open breaker is still a TypeError, not an open rejection.
  const open = await openBreaker(uniqueName('err-fn-open'))
  const r = await settle(open.call('nope'))
  t.true(r.reason instanceof TypeError)
})
