'use strict'
const test = require('ava')
const { CircuitBreaker, CircuitOpenError } = require('../resilience.js')
const {
  sleep,
  uniqueName,
  deferred,
  settle,
  failTimes,
  succeedTimes,
  readyToProbe,
  sumOfParts,
  RESET_MARGIN,
} = require('./_helpers.js')

const FIELDS = [
  'totalCalls',
  'successfulCalls',
  'failedCalls',
  'rejectedCalls',
  'ignoredCalls',
  'totalOpenTimeMs',
  'timesOpened',
  'timesHalfOpened',
]

function assertShape(t, m) {
  t.is(Object.getPrototypeOf(m), Object.prototype)
  t.deepEqual(Object.keys(m).sort(), [...FIELDS].sort())
  for (const field of FIELDS) {
    t.is(typeof m[field], 'number', field)
    t.true(Number.isSafeInteger(m[field]) && m[field] >= 0, `${field} = ${m[field]}`)
  }
}

test('metrics have exactly the documented numeric fields', async (t) => {
  const cb = new CircuitBreaker(uniqueName('m-shape'), { failureThreshold: 1, resetTimeout: 60000 })
  assertShape(t, cb.getMetrics())
  await succeedTimes(cb, 2)
  await failTimes(cb, 1)
  await settle(cb.call(() => 1))
  assertShape(t, cb.getMetrics())
})

test('successes, failures and rejections are each counted once, and totalCalls is their sum', async (t) => {
  const cb = new CircuitBreaker(uniqueName('m-count'), { failureThreshold: 3, resetTimeout: 60000 })
  await succeedTimes(cb, 4) // sync successes (JS fast path)
  await cb.call(async () => 'a') // async success
  await failTimes(cb, 2)
  await cb.call(() => 'reset') // resets the failure count
  await settle(cb.call(() => Promise.reject(new Error('r1'))))
  await settle(cb.call(() => Promise.reject(new Error('r2'))))
  await settle(cb.call(() => Promise.reject(new Error('r3')))) // opens
  t.is(cb.state, 'OPEN')
  for (let i = 0; i < 4; i++) await settle(cb.call(() => 1))
  const m = cb.getMetrics()
  t.is(m.successfulCalls, 6)
  t.is(m.failedCalls, 5)
  t.is(m.rejectedCalls, 4)
  t.is(m.totalCalls, 15)
  t.is(m.totalCalls, sumOfParts(m))
  t.is(m.timesOpened, 1)
  t.is(m.timesHalfOpened, 0)
})

test('calls in flight are counted once they finish', async (t) => {
  const cb = new CircuitBreaker(uniqueName('m-inflight'), { failureThreshold: 10 })
  const d1 = deferred()
  const d2 = deferred()
  const p1 = cb.call(() => d1.promise)
  const p2 = cb.call(() => d2.promise)
  t.is(cb.getMetrics().totalCalls, 0)
  d1.resolve(1)
  await p1
  t.like(cb.getMetrics(), { totalCalls: 1, successfulCalls: 1, failedCalls: 0 })
  d2.reject(new Error('x'))
  await settle(p2)
  t.like(cb.getMetrics(), { totalCalls: 2, successfulCalls: 1, failedCalls: 1 })
})

test('a call with a non-function is not counted', async (t) => {
  const cb = new CircuitBreaker(uniqueName('m-badfn'))
  await settle(cb.call(42))
  await settle(cb.call())
  t.is(cb.getMetrics().totalCalls, 0)
})

test('many fast-path successes are all counted', async (t) => {
  const cb = new CircuitBreaker(uniqueName('m-many'))
  const calls = []
  for (let i = 0; i < 5000; i++) calls.push(cb.call(() => i))
  await Promise.all(calls)
  for (let i = 0; i < 5000; i++) await cb.call(async () => i)
  t.like(cb.getMetrics(), { totalCalls: 10000, successfulCalls: 10000, failedCalls: 0, rejectedCalls: 0 })
})

test('metrics are a snapshot: mutating the returned object changes nothing', async (t) => {
  const cb = new CircuitBreaker(uniqueName('m-snap'))
  await succeedTimes(cb, 2)
  const m = cb.getMetrics()
  m.successfulCalls = 999
  m.totalCalls = -1
  t.like(cb.getMetrics(), { successfulCalls: 2, totalCalls: 2 })
  t.not(cb.getMetrics(), cb.getMetrics())
})

test('totalOpenTimeMs grows while the circuit is open, including the period in progress', async (t) => {
  const cb = new CircuitBreaker(uniqueName('m-open-time'), { failureThreshold: 1, resetTimeout: 60000 })
  t.is(cb.getMetrics().totalOpenTimeMs, 0)
  await failTimes(cb, 1)
  const first = cb.getMetrics().totalOpenTimeMs
  t.true(first < 1000, `just opened: ${first}`)
  await sleep(80)
  const second = cb.getMetrics().totalOpenTimeMs
  t.true(second > first, `${second} > ${first}`)
  t.true(second >= 60, `open for ~80 ms, counted ${second}`)
  await sleep(50)
  const third = cb.getMetrics().totalOpenTimeMs
  t.true(third >= second + 30, `${third} >= ${second} + 30`)
})

test('totalOpenTimeMs stops growing once the circuit half-opens, and keeps the finished period', async (t) => {
  const resetTimeout = 40
  const cb = new CircuitBreaker(uniqueName('m-open-time-2'), {
    failureThreshold: 1,
    successThreshold: 1,
    resetTimeout,
    timeout: false,
  })
  t.is(cb.getMetrics().totalOpenTimeMs, 0)
  await failTimes(cb, 1)
  await sleep(resetTimeout + RESET_MARGIN)
  await succeedTimes(cb, 1) // half-opens, then closes
  t.is(cb.state, 'CLOSED')
  const finished = cb.getMetrics().totalOpenTimeMs
  t.true(finished >= resetTimeout - 5, `open period of >= ${resetTimeout} ms counted as ${finished}`)
  await sleep(50)
  t.is(cb.getMetrics().totalOpenTimeMs, finished, 'a closed circuit adds no open time')

  // A second open period adds to the first.
  await failTimes(cb, 1)
  await sleep(resetTimeout + RESET_MARGIN)
  await succeedTimes(cb, 1)
  const both = cb.getMetrics().totalOpenTimeMs
  t.true(both >= finished + resetTimeout - 5, `${both} >= ${finished} + ${resetTimeout}`)
})

test('totalOpenTimeMs does not grow while HALF_OPEN', async (t) => {
  const cb = await readyToProbe('m-halfopen-time', { successThreshold: 2, halfOpenMaxCalls: 1 })
  const probe = deferred()
  const p = cb.call(() => probe.promise)
  t.is(cb.state, 'HALF_OPEN')
  const atHalfOpen = cb.getMetrics().totalOpenTimeMs
  await sleep(60)
  t.is(cb.getMetrics().totalOpenTimeMs, atHalfOpen)
  probe.resolve()
  await p
})

test('timesOpened and timesHalfOpened count transitions', async (t) => {
  // Long enough that the calls right after opening are surely rejected, even on a loaded machine.
  const resetTimeout = 200
  const cb = new CircuitBreaker(uniqueName('m-times'), {
    failureThreshold: 1,
    successThreshold: 1,
    resetTimeout,
    timeout: false,
  })
  t.like(cb.getMetrics(), { timesOpened: 0, timesHalfOpened: 0 })
  await failTimes(cb, 1)
  t.like(cb.getMetrics(), { timesOpened: 1, timesHalfOpened: 0 })
  // Rejections while open are not transitions.
  await settle(cb.call(() => 1))
  await settle(cb.call(() => 1))
  t.like(cb.getMetrics(), { timesOpened: 1, timesHalfOpened: 0, rejectedCalls: 2 })
  await sleep(resetTimeout + RESET_MARGIN)
  await failTimes(cb, 1) // probe fails: half-open then open again
  t.like(cb.getMetrics(), { timesOpened: 2, timesHalfOpened: 1 })
  await sleep(resetTimeout + RESET_MARGIN)
  await succeedTimes(cb, 1) // probe succeeds: half-open then closed
  t.like(cb.getMetrics(), { timesOpened: 2, timesHalfOpened: 2 })
  t.is(cb.state, 'CLOSED')
  await succeedTimes(cb, 3)
  t.like(cb.getMetrics(), { timesOpened: 2, timesHalfOpened: 2 })
})

test('resetMetrics zeroes every counter but keeps an OPEN state', async (t) => {
  const cb = new CircuitBreaker(uniqueName('m-reset-open'), { failureThreshold: 2, resetTimeout: 60000 })
  await succeedTimes(cb, 3)
  await failTimes(cb, 2)
  await settle(cb.call(() => 1))
  await sleep(30)
  const before = cb.getMetrics()
  t.true(before.totalCalls > 0)
  t.true(before.totalOpenTimeMs > 0)
  t.is(cb.resetMetrics(), undefined)
  const after = cb.getMetrics()
  t.like(after, {
    totalCalls: 0,
    successfulCalls: 0,
    failedCalls: 0,
    rejectedCalls: 0,
    timesOpened: 0,
    timesHalfOpened: 0,
  })
  t.true(after.totalOpenTimeMs < before.totalOpenTimeMs, 'open time counts from the reset on')
  t.is(cb.state, 'OPEN')
  t.is(cb.getSuccessRate(), 100)
  const r = await settle(cb.call(() => 1))
  t.true(r.reason instanceof CircuitOpenError, 'still open after the reset')
  t.like(cb.getMetrics(), { totalCalls: 1, rejectedCalls: 1 })
})

test('resetMetrics keeps a CLOSED state and its pending failure count', async (t) => {
  const cb = new CircuitBreaker(uniqueName('m-reset-closed'), { failureThreshold: 3, resetTimeout: 60000 })
  await failTimes(cb, 2)
  cb.resetMetrics()
  t.is(cb.state, 'CLOSED')
  t.is(cb.getMetrics().failedCalls, 0)
  await failTimes(cb, 1)
  t.is(cb.state, 'OPEN', 'the consecutive count is state, not metrics')
})

test('resetMetrics keeps a HALF_OPEN state', async (t) => {
  const cb = await readyToProbe('m-reset-half', { successThreshold: 2, halfOpenMaxCalls: 1 })
  await succeedTimes(cb, 1)
  t.is(cb.state, 'HALF_OPEN')
  cb.resetMetrics()
  t.is(cb.state, 'HALF_OPEN')
  await succeedTimes(cb, 1)
  t.is(cb.state, 'CLOSED')
  t.like(cb.getMetrics(), { totalCalls: 1, successfulCalls: 1 })
})

test('resetMetrics while calls are in flight: they are counted when they finish', async (t) => {
  const cb = new CircuitBreaker(uniqueName('m-reset-inflight'))
  const d = deferred()
  const p = cb.call(() => d.promise)
  await succeedTimes(cb, 3)
  cb.resetMetrics()
  d.resolve('done')
  await p
  t.like(cb.getMetrics(), { totalCalls: 1, successfulCalls: 1 })
})

test('getSuccessRate is a percentage of all calls, rejected ones included', async (t) => {
  const cb = new CircuitBreaker(uniqueName('m-rate'), { failureThreshold: 1, resetTimeout: 60000 })
  t.is(cb.getSuccessRate(), 100)
  await succeedTimes(cb, 1)
  t.is(cb.getSuccessRate(), 100)
  await failTimes(cb, 1) // opens
  t.is(cb.getSuccessRate(), 50)
  await settle(cb.call(() => 1))
  await settle(cb.call(() => 1))
  t.is(cb.getSuccessRate(), 25)
  const m = cb.getMetrics()
  t.is(cb.getSuccessRate(), (m.successfulCalls / m.totalCalls) * 100)
})

test('getSuccessRate of 1 success in 3 calls', async (t) => {
  const cb = new CircuitBreaker(uniqueName('m-rate-3'))
  await succeedTimes(cb, 1)
  await failTimes(cb, 2)
  t.is(cb.getSuccessRate(), (1 / 3) * 100)
})

test('totalCalls equals the sum of its parts after a burst of concurrent mixed calls', async (t) => {
  const cb = new CircuitBreaker(uniqueName('m-burst'), { failureThreshold: 4, resetTimeout: 5, timeout: false })
  const calls = []
  for (let i = 0; i < 2000; i++) {
    const k = i % 7
    calls.push(
      settle(
        cb.call(() => {
          if (k === 0) throw new Error('sync')
          if (k === 1) return Promise.reject(new Error('async'))
          if (k === 2) return Promise.resolve(i)
          return i
        }),
      ),
    )
  }
  await Promise.all(calls)
  const m = cb.getMetrics()
  t.is(m.totalCalls, 2000)
  t.is(m.totalCalls, sumOfParts(m))
})
