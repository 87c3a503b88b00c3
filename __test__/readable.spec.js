'use strict'
// Readable objects and identity: util.inspect / JSON.stringify of the classes, one JS object per
// breaker per thread, registry.clear(), and stacks on open-circuit rejections.

const test = require('ava')
const util = require('node:util')
const {
  CircuitBreaker,
  CircuitBreakerRegistry,
  CircuitOpenError,
  DatabaseCircuitBreaker,
  ApiCircuitBreaker,
} = require('../resilience.js')
const { uniqueName, failTimes } = require('./_helpers.js')

test('util.inspect of a breaker shows its name, state, options and metrics', async (t) => {
  const name = uniqueName('inspect')
  const cb = new CircuitBreaker(name, { failureThreshold: 1 })
  await failTimes(cb, 1)
  const shown = util.inspect(cb)
  t.true(shown.startsWith('CircuitBreaker {'), shown)
  t.true(shown.includes(`name: '${name}'`), shown)
  t.true(shown.includes("state: 'OPEN'"), shown)
  t.true(shown.includes('failureThreshold: 1'), shown)
  t.true(shown.includes('failedCalls: 1'), shown)
  t.true(util.inspect({ nested: { deeper: { cb } } }).includes('[CircuitBreaker'), 'depth is honoured')
})

test('JSON.stringify of a breaker writes the same view', (t) => {
  const name = uniqueName('json')
  const cb = new CircuitBreaker(name)
  const data = JSON.parse(JSON.stringify(cb))
  t.is(data.name, name)
  t.is(data.state, 'CLOSED')
  t.is(data.options.failureThreshold, 5)
  t.is(data.options.stackTrace, true)
  t.is(data.metrics.totalCalls, 0)
})

test('util.inspect of a registry shows each breaker and its state', (t) => {
  const registry = new CircuitBreakerRegistry()
  registry.register('a')
  registry.register('b')
  const shown = util.inspect(registry)
  t.true(shown.startsWith('CircuitBreakerRegistry {'), shown)
  t.true(shown.includes("a: 'CLOSED'"), shown)
  t.deepEqual(JSON.parse(JSON.stringify(registry)), { size: 2, breakers: { a: 'CLOSED', b: 'CLOSED' } })
})

test('util.inspect of a domain breaker shows no password', async (t) => {
  const db = new DatabaseCircuitBreaker(uniqueName('inspect-db'), { url: 'postgres://trader:hunter2@127.0.0.1:1/x' })
  try {
    const shown = util.inspect(db, { depth: 5 })
    t.true(shown.startsWith('DatabaseCircuitBreaker {'), shown)
    t.true(shown.includes("driver: 'postgres'"), shown)
    t.false(shown.includes('hunter2'), shown)
    t.false(JSON.stringify(db).includes('hunter2'))
  } finally {
    await db.close()
  }
  const api = new ApiCircuitBreaker(uniqueName('inspect-api'), { baseUrl: 'http://user:s3cret@127.0.0.1:1/', headers: { authorization: 'Bearer key-123' } })
  try {
    const shown = util.inspect(api, { depth: 5 })
    t.true(shown.startsWith('ApiCircuitBreaker {'), shown)
    t.false(shown.includes('s3cret') || shown.includes('key-123'), shown)
  } finally {
    await api.close()
  }
})

test('inspecting a prototype or a fake instance does not throw', (t) => {
  t.notThrows(() => util.inspect(CircuitBreaker.prototype))
  t.notThrows(() => util.inspect(Object.create(CircuitBreakerRegistry.prototype)))
})

test('get, getOrCreate, register and a domain breaker getter give one object per breaker', async (t) => {
  const registry = new CircuitBreakerRegistry()
  const made = registry.getOrCreate('one')
  t.is(registry.get('one'), made)
  t.is(registry.getOrCreate('one'), made)
  const replaced = registry.register('one')
  t.not(replaced, made)
  t.is(registry.get('one'), replaced)
  t.is(registry.get('missing'), null)
  const db = new DatabaseCircuitBreaker(uniqueName('identity-db'))
  try {
    t.is(db.breaker, db.breaker)
  } finally {
    await db.close()
  }
})

test('registry.clear() removes every breaker; holders keep a working one', async (t) => {
  const registry = new CircuitBreakerRegistry()
  const a = registry.getOrCreate('a', { failureThreshold: 1 })
  registry.getOrCreate('b')
  await failTimes(a, 1)
  t.is(registry.clear(), 2)
  t.is(registry.size, 0)
  t.deepEqual(registry.listNames(), [])
  t.is(a.state, 'OPEN')
  t.is(registry.getOrCreate('a').state, 'CLOSED')
  t.is(registry.clear(), 1)
})

test('an open-circuit rejection has a stack that starts at the caller; none with stackTrace: false', async (t) => {
  const withStack = new CircuitBreaker(uniqueName('stack'), { failureThreshold: 1 })
  await failTimes(withStack, 1)
  const error = await withStack.call(() => 1).catch((e) => e)
  t.true(error instanceof CircuitOpenError)
  const frames = error.stack.split('\n').slice(1)
  t.true(frames.length > 0, error.stack)
  t.regex(frames[0], /readable\.spec\.js/, 'the first frame is the caller')
  t.false(error.stack.includes('lib/call.js'), error.stack)

  const bare = new CircuitBreaker(uniqueName('no-stack'), { failureThreshold: 1, stackTrace: false })
  t.is(bare.options.stackTrace, false)
  await failTimes(bare, 1)
  const quiet = await bare.call(() => 1).catch((e) => e)
  t.true(quiet instanceof CircuitOpenError)
  t.is(quiet.stack.split('\n').length, 1, quiet.stack)
})

test('stackTrace must be a boolean', (t) => {
  const error = t.throws(() => new CircuitBreaker('x', { stackTrace: 'yes' }), { instanceOf: TypeError })
  t.is(error.code, 'ERR_INVALID_ARG_TYPE')
})
