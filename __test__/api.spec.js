'use strict'
const test = require('ava')
const resilience = require('../resilience.js')
const { uniqueName } = require('./_helpers.js')

const {
  CircuitBreaker,
  CircuitBreakerRegistry,
  CircuitOpenError,
  CircuitTimeoutError,
} = resilience

test('the package exports the public classes and hides the native call path', (t) => {
  t.is(typeof CircuitBreaker, 'function')
  t.is(typeof CircuitBreakerRegistry, 'function')
  t.is(typeof CircuitOpenError, 'function')
  t.is(typeof CircuitTimeoutError, 'function')
  t.true(CircuitOpenError.prototype instanceof Error)
  t.true(CircuitTimeoutError.prototype instanceof Error)
  for (const key of Object.keys(resilience)) {
    t.false(key.startsWith('__breaker'), `${key} is internal`)
  }
  t.false('__sharedLayout' in resilience)
  t.is(typeof CircuitBreaker.prototype.call, 'function')
})

test('a new breaker is CLOSED, named, with every default option filled in', (t) => {
  const name = uniqueName('api-defaults')
  const cb = new CircuitBreaker(name)
  t.is(cb.name, name)
  t.is(cb.state, 'CLOSED')
  t.is(cb.getState(), 'CLOSED')
  t.deepEqual(cb.options, {
    failureThreshold: 5,
    successThreshold: 2,
    timeout: 30000,
    resetTimeout: 60000,
    halfOpenMaxCalls: 2,
    stackTrace: true,
  })
})

test('options given as undefined or null mean the defaults', (t) => {
  const defaults = new CircuitBreaker(uniqueName('api')).options
  t.deepEqual(new CircuitBreaker(uniqueName('api'), undefined).options, defaults)
  t.deepEqual(new CircuitBreaker(uniqueName('api'), null).options, defaults)
  t.deepEqual(new CircuitBreaker(uniqueName('api'), {}).options, defaults)
  t.deepEqual(
    new CircuitBreaker(uniqueName('api'), {
      failureThreshold: undefined,
      successThreshold: undefined,
      timeout: undefined,
      resetTimeout: undefined,
      halfOpenMaxCalls: undefined,
    }).options,
    defaults,
  )
})

test('options reflect what was given; halfOpenMaxCalls defaults to successThreshold', (t) => {
  const cb = new CircuitBreaker(uniqueName('api'), {
    failureThreshold: 7,
    successThreshold: 4,
    timeout: 1500,
    resetTimeout: 250,
  })
  t.deepEqual(cb.options, {
    failureThreshold: 7,
    successThreshold: 4,
    timeout: 1500,
    resetTimeout: 250,
    halfOpenMaxCalls: 4,
    stackTrace: true,
  })
  const explicit = new CircuitBreaker(uniqueName('api'), { successThreshold: 4, halfOpenMaxCalls: 1 })
  t.is(explicit.options.halfOpenMaxCalls, 1)
  t.is(explicit.options.successThreshold, 4)
})

test('timeout: false disables the deadline and reads back as false', (t) => {
  const cb = new CircuitBreaker(uniqueName('api'), { timeout: false })
  t.is(cb.options.timeout, false)
  t.is(cb.options.resetTimeout, 60000)
})

test('largest accepted thresholds are accepted', (t) => {
  const cb = new CircuitBreaker(uniqueName('api'), {
    failureThreshold: 2 ** 30 - 1,
    successThreshold: 2 ** 30 - 1,
    halfOpenMaxCalls: 65535,
  })
  t.is(cb.options.failureThreshold, 2 ** 30 - 1)
  t.is(cb.options.successThreshold, 2 ** 30 - 1)
  t.is(cb.options.halfOpenMaxCalls, 65535)
})

// Whole-millisecond durations must read back as given (they are also shown in
// CircuitTimeoutError's message and `timeout` field).
const durations = [1, 5, 30, 50, 999, 1000, 1001, 1003, 2049, 30000, 60001, 86_400_000 + 7]
for (const ms of durations) {
  test(`timeout and resetTimeout of ${ms} ms read back exactly`, (t) => {
    const cb = new CircuitBreaker(uniqueName('api-ms'), { timeout: ms, resetTimeout: ms })
    t.is(cb.options.timeout, ms)
    t.is(cb.options.resetTimeout, ms)
  })
}

test('options is a fresh plain object every time: mutating it changes nothing', (t) => {
  const cb = new CircuitBreaker(uniqueName('api'), { failureThreshold: 3 })
  const first = cb.options
  t.is(Object.getPrototypeOf(first), Object.prototype)
  first.failureThreshold = 100
  t.is(cb.options.failureThreshold, 3)
  t.not(cb.options, first)
})

test('name and state are read-only views', (t) => {
  const name = uniqueName('api')
  const cb = new CircuitBreaker(name)
  try {
    cb.name = 'other'
  } catch {}
  try {
    cb.state = 'OPEN'
  } catch {}
  t.is(cb.name, name)
  t.is(cb.state, 'CLOSED')
})

test('call resolves with the value of an async fn', async (t) => {
  const cb = new CircuitBreaker(uniqueName('api'))
  const p = cb.call(async () => 42)
  t.true(p instanceof Promise)
  t.is(await p, 42)
})

test('call resolves with a plain (synchronously returned) value', async (t) => {
  const cb = new CircuitBreaker(uniqueName('api'))
  const p = cb.call(() => 'plain')
  t.true(p instanceof Promise)
  t.is(await p, 'plain')
  t.is(await cb.call(() => undefined), undefined)
  t.is(await cb.call(() => null), null)
})

test('getSuccessRate is 100 with no calls, and a percentage afterwards', async (t) => {
  const cb = new CircuitBreaker(uniqueName('api'), { failureThreshold: 10 })
  t.is(cb.getSuccessRate(), 100)
  await cb.call(() => 1)
  await cb.call(() => 1)
  await cb.call(() => 1)
  await t.throwsAsync(cb.call(() => Promise.reject(new Error('x'))))
  t.is(cb.getSuccessRate(), 75)
})

test('getMetrics of a fresh breaker is a plain object of zeroes', (t) => {
  const cb = new CircuitBreaker(uniqueName('api'))
  const m = cb.getMetrics()
  t.is(Object.getPrototypeOf(m), Object.prototype)
  t.deepEqual(m, {
    totalCalls: 0,
    successfulCalls: 0,
    failedCalls: 0,
    rejectedCalls: 0,
    ignoredCalls: 0,
    totalOpenTimeMs: 0,
    timesOpened: 0,
    timesHalfOpened: 0,
  })
})

test('each JS breaker object made with new is an independent breaker, even under the same name', async (t) => {
  const name = uniqueName('api-same-name')
  const a = new CircuitBreaker(name, { failureThreshold: 1 })
  const b = new CircuitBreaker(name, { failureThreshold: 1 })
  await t.throwsAsync(a.call(() => Promise.reject(new Error('x'))))
  t.is(a.state, 'OPEN')
  t.is(b.state, 'CLOSED')
  t.is(await b.call(() => 1), 1)
})
