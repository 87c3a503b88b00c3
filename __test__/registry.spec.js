'use strict'
const test = require('ava')
const { CircuitBreaker, CircuitBreakerRegistry, CircuitOpenError } = require('../resilience.js')
const {
  uniqueName,
  settle,
  failTimes,
  succeedTimes,
  sleep,
  withoutOpenTime,
  RESET_MARGIN,
} = require('./_helpers.js')

test('a new registry is empty', (t) => {
  const registry = new CircuitBreakerRegistry()
  t.is(registry.size, 0)
  t.deepEqual(registry.listNames(), [])
  t.deepEqual(registry.getAllMetrics(), {})
  t.is(registry.get('anything'), null)
  t.false(registry.remove('anything'))
})

test('register returns a working CircuitBreaker with the given name and options', async (t) => {
  const registry = new CircuitBreakerRegistry()
  const name = uniqueName('reg')
  const cb = registry.register(name, { failureThreshold: 3, resetTimeout: 500 })
  t.true(cb instanceof CircuitBreaker)
  t.is(cb.name, name)
  t.like(cb.options, { failureThreshold: 3, resetTimeout: 500, successThreshold: 2, timeout: 30000 })
  t.is(cb.state, 'CLOSED')
  t.is(await cb.call(async () => 42), 42)
  t.is(registry.size, 1)
})

test('register without options uses the defaults', (t) => {
  const registry = new CircuitBreakerRegistry()
  t.deepEqual(registry.register(uniqueName('reg')).options, new CircuitBreaker(uniqueName('x')).options)
})

test('get returns the registered breaker (shared state and metrics), or null', async (t) => {
  const registry = new CircuitBreakerRegistry()
  const name = uniqueName('reg-get')
  const cb = registry.register(name, { failureThreshold: 2, resetTimeout: 60000 })
  const again = registry.get(name)
  t.true(again instanceof CircuitBreaker)
  t.is(again.name, name)
  await succeedTimes(cb, 3)
  t.is(again.getMetrics().successfulCalls, 3)
  await failTimes(again, 2)
  t.is(cb.state, 'OPEN')
  t.is(registry.get(`${name}-absent`), null)
})

test('register replaces any previous breaker of that name; the old object keeps its own breaker', async (t) => {
  const registry = new CircuitBreakerRegistry()
  const name = uniqueName('reg-replace')
  const old = registry.register(name, { failureThreshold: 1, resetTimeout: 60000 })
  await failTimes(old, 1)
  t.is(old.state, 'OPEN')
  const fresh = registry.register(name, { failureThreshold: 4 })
  t.is(registry.size, 1)
  t.is(fresh.state, 'CLOSED')
  t.is(fresh.options.failureThreshold, 4)
  t.is(fresh.getMetrics().totalCalls, 0)
  const looked = registry.get(name)
  t.is(looked.state, 'CLOSED')
  t.is(looked.options.failureThreshold, 4)
  // The replaced breaker still works on its own state.
  t.is(old.state, 'OPEN')
  t.true((await settle(old.call(() => 1))).reason instanceof CircuitOpenError)
  t.is(await looked.call(() => 'fresh'), 'fresh')
  t.is(fresh.getMetrics().successfulCalls, 1)
  t.is(old.getMetrics().successfulCalls, 0)
})

test('getOrCreate creates a breaker when none is registered, with the given options', (t) => {
  const registry = new CircuitBreakerRegistry()
  const name = uniqueName('reg-goc')
  const cb = registry.getOrCreate(name, { failureThreshold: 9 })
  t.is(cb.name, name)
  t.is(cb.options.failureThreshold, 9)
  t.is(registry.size, 1)
  t.deepEqual(registry.listNames(), [name])
})

test('getOrCreate returns the same underlying breaker: state and metrics are shared', async (t) => {
  const registry = new CircuitBreakerRegistry()
  const name = uniqueName('reg-goc-shared')
  const a = registry.getOrCreate(name, { failureThreshold: 3, resetTimeout: 60000 })
  const b = registry.getOrCreate(name, { failureThreshold: 3, resetTimeout: 60000 })
  t.is(registry.size, 1)
  await succeedTimes(a, 2)
  await succeedTimes(b, 3)
  t.is(a.getMetrics().successfulCalls, 5)
  t.is(b.getMetrics().successfulCalls, 5)
  // Failures through both objects add up to one consecutive count.
  await failTimes(a, 1)
  await failTimes(b, 1)
  t.is(a.state, 'CLOSED')
  await failTimes(a, 1)
  t.is(a.state, 'OPEN')
  t.is(b.state, 'OPEN')
  // The JS call path of the other object sees the open state at once.
  let invoked = false
  const r = await settle(b.call(() => {
    invoked = true
  }))
  t.true(r.reason instanceof CircuitOpenError)
  t.false(invoked)
  t.deepEqual(withoutOpenTime(a.getMetrics()), withoutOpenTime(b.getMetrics()))
  t.like(a.getMetrics(), { successfulCalls: 5, failedCalls: 3, rejectedCalls: 1, totalCalls: 9 })
  a.resetMetrics()
  t.is(b.getMetrics().totalCalls, 0)
})

test('getOrCreate after register returns the registered breaker, which keeps its options', async (t) => {
  const registry = new CircuitBreakerRegistry()
  const name = uniqueName('reg-goc-keep')
  const cb = registry.register(name, { failureThreshold: 1, resetTimeout: 60000 })
  const other = registry.getOrCreate(name, { failureThreshold: 50 })
  t.is(other.options.failureThreshold, 1)
  await failTimes(other, 1)
  t.is(cb.state, 'OPEN')
})

test('a success through one object clears the failure count seen through another', async (t) => {
  const registry = new CircuitBreakerRegistry()
  const name = uniqueName('reg-shared-count')
  const a = registry.getOrCreate(name, { failureThreshold: 2, resetTimeout: 60000 })
  const b = registry.get(name)
  await failTimes(a, 1)
  await succeedTimes(b, 1)
  await failTimes(a, 1)
  t.is(a.state, 'CLOSED')
})

test('half-open probes are shared between objects of the same breaker', async (t) => {
  const registry = new CircuitBreakerRegistry()
  const name = uniqueName('reg-probes')
  const a = registry.getOrCreate(name, {
    failureThreshold: 1,
    successThreshold: 2,
    halfOpenMaxCalls: 1,
    resetTimeout: 30,
    timeout: false,
  })
  const b = registry.get(name)
  await failTimes(a, 1)
  await sleep(30 + RESET_MARGIN)
  let release
  const probe = a.call(() => new Promise((resolve) => {
    release = resolve
  }))
  t.is(b.state, 'HALF_OPEN')
  t.true((await settle(b.call(() => 1))).reason instanceof CircuitOpenError)
  release('ok')
  await probe
  await succeedTimes(b, 1)
  t.is(a.state, 'CLOSED')
})

test('listNames is sorted', (t) => {
  const registry = new CircuitBreakerRegistry()
  const names = ['delta', 'alpha', 'Charlie', 'bravo', 'alpha2', 'a', 'Z', '10', '9', '_x']
  for (const name of names) registry.register(name)
  t.deepEqual(registry.listNames(), [...names].sort())
  t.is(registry.size, names.length)
})

test('listNames is sorted the way JavaScript sorts strings, also beyond the BMP', (t) => {
  const registry = new CircuitBreakerRegistry()
  // U+FF01 (one UTF-16 unit, 0xFF01) and U+1F600 (surrogates 0xD83D 0xDE00): JavaScript's
  // default sort (UTF-16 code units) puts the emoji first; a UTF-8 byte order puts it last.
  const names = ['z', '\uFF01', '\u{1F600}', '\uE000']
  for (const name of names) registry.register(name)
  t.deepEqual(registry.listNames(), [...names].sort())
})

test('getAllMetrics is a plain object keyed by name', async (t) => {
  const registry = new CircuitBreakerRegistry()
  const a = registry.register('a', { failureThreshold: 1, resetTimeout: 60000 })
  const b = registry.register('b')
  registry.register('c')
  await succeedTimes(b, 2)
  await failTimes(a, 1)
  await settle(a.call(() => 1))
  const all = registry.getAllMetrics()
  t.is(Object.getPrototypeOf(all), Object.prototype)
  t.deepEqual(Object.keys(all).sort(), ['a', 'b', 'c'])
  t.like(all.a, { totalCalls: 2, failedCalls: 1, rejectedCalls: 1, timesOpened: 1 })
  t.like(all.b, { totalCalls: 2, successfulCalls: 2 })
  t.like(all.c, { totalCalls: 0 })
  t.deepEqual(all.b, b.getMetrics())
})

test('getAllMetrics has an own entry for every registered name, whatever the name', (t) => {
  const registry = new CircuitBreakerRegistry()
  const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'a b']
  for (const name of names) registry.register(name)
  const all = registry.getAllMetrics()
  t.deepEqual(Object.keys(all).sort(), [...names].sort())
  t.is(Object.getPrototypeOf(all), Object.prototype, 'the result\'s prototype is not replaced')
  for (const name of names) {
    t.true(Object.prototype.hasOwnProperty.call(all, name), name)
    t.is(all[name]?.totalCalls, 0, name)
  }
})

test('remove returns whether a breaker was removed; holders keep a working breaker', async (t) => {
  const registry = new CircuitBreakerRegistry()
  const name = uniqueName('reg-remove')
  const cb = registry.register(name, { failureThreshold: 2 })
  registry.register(`${name}-other`)
  t.is(registry.size, 2)
  t.true(registry.remove(name))
  t.false(registry.remove(name))
  t.is(registry.size, 1)
  t.is(registry.get(name), null)
  t.deepEqual(registry.listNames(), [`${name}-other`])
  t.false(name in registry.getAllMetrics())
  t.is(await cb.call(() => 'still works'), 'still works')
  await failTimes(cb, 2)
  t.is(cb.state, 'OPEN')
  // A new breaker under the same name is a different breaker.
  const again = registry.getOrCreate(name)
  t.is(again.state, 'CLOSED')
  t.is(again.getMetrics().totalCalls, 0)
})

test('size follows register, getOrCreate and remove', (t) => {
  const registry = new CircuitBreakerRegistry()
  const base = uniqueName('reg-size')
  registry.register(`${base}-1`)
  registry.register(`${base}-1`)
  t.is(registry.size, 1)
  registry.getOrCreate(`${base}-2`)
  registry.getOrCreate(`${base}-2`)
  t.is(registry.size, 2)
  registry.get(`${base}-3`)
  t.is(registry.size, 2)
  registry.remove(`${base}-1`)
  t.is(registry.size, 1)
})

test('private registries are independent of each other', async (t) => {
  const r1 = new CircuitBreakerRegistry()
  const r2 = new CircuitBreakerRegistry()
  const name = uniqueName('reg-private')
  const a = r1.register(name, { failureThreshold: 1, resetTimeout: 60000 })
  t.is(r2.get(name), null)
  const b = r2.getOrCreate(name, { failureThreshold: 1, resetTimeout: 60000 })
  await failTimes(a, 1)
  t.is(a.state, 'OPEN')
  t.is(b.state, 'CLOSED')
  t.is(r1.size, 1)
  t.is(r2.size, 1)
  r1.remove(name)
  t.is(r2.size, 1)
})

test('CircuitBreakerRegistry.global() instances share breakers', async (t) => {
  const g1 = CircuitBreakerRegistry.global()
  const g2 = CircuitBreakerRegistry.global()
  t.true(g1 instanceof CircuitBreakerRegistry)
  const name = uniqueName('reg-global')
  const cb = g1.register(name, { failureThreshold: 1, resetTimeout: 60000 })
  const viaOther = g2.get(name)
  t.not(viaOther, null)
  t.true(g2.listNames().includes(name))
  t.is(g1.size, g2.size)
  await failTimes(cb, 1)
  t.is(viaOther.state, 'OPEN')
  t.is(g2.getOrCreate(name).state, 'OPEN')
  t.like(g2.getAllMetrics()[name], { failedCalls: 1, timesOpened: 1 })
  t.true(g2.remove(name))
  t.is(g1.get(name), null)
})

test('the global registry is independent of private registries', (t) => {
  const name = uniqueName('reg-global-private')
  const priv = new CircuitBreakerRegistry()
  priv.register(name)
  t.is(CircuitBreakerRegistry.global().get(name), null)
  CircuitBreakerRegistry.global().register(`${name}-g`)
  t.is(priv.get(`${name}-g`), null)
  t.true(CircuitBreakerRegistry.global().remove(`${name}-g`))
})

test('names are exact: no trimming, case folding or normalisation', (t) => {
  const registry = new CircuitBreakerRegistry()
  const names = ['api', 'API', ' api', 'api ', 'caf\u00e9', 'cafe\u0301']
  for (const name of names) registry.register(name)
  t.is(registry.size, names.length)
  for (const name of names) t.is(registry.get(name).name, name)
})

test('distinct names never share a breaker, even names that are not well-formed UTF-16', (t) => {
  const registry = new CircuitBreakerRegistry()
  // Lone surrogates: either refused up front, or kept as distinct breakers under their own names.
  for (const name of ['\uD800', '\uDC00', '\uFFFD']) {
    try {
      const cb = registry.register(name)
      t.is(cb.name, name, `name ${JSON.stringify(name)} round-trips`)
    } catch (err) {
      t.true(err instanceof TypeError)
      t.is(err.code, 'ERR_INVALID_ARG_VALUE')
    }
  }
  for (const name of registry.listNames()) t.not(registry.get(name), null)
  t.is(new Set(registry.listNames()).size, registry.size)
})
