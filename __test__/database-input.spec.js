'use strict'
// DatabaseCircuitBreaker: bad arguments get typed errors with stable codes (never a crash or a
// hang), and no error shows the password of the URL.
const test = require('ava')

const { DatabaseCircuitBreaker } = require('../resilience.js')
const { uniqueName } = require('./_helpers.js')

const make = (options) => new DatabaseCircuitBreaker(uniqueName('input'), options)

test('the constructor refuses bad names and options', (t) => {
  t.throws(() => new DatabaseCircuitBreaker(), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => new DatabaseCircuitBreaker(''), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_VALUE' })
  t.throws(() => make(5), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => make({ url: 42 }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => make({ nope: 1 }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_VALUE' })
  t.throws(() => make({ maxConnections: 0 }), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => make({ maxConnections: 1.5 }), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => make({ maxConnections: '2' }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => make({ acquireTimeout: -1 }), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => make({ acquireTimeout: Infinity }), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => make({ failureThreshold: 0 }), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' })
  t.throws(() => make({ timeout: 'soon' }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  const ok = make({ maxConnections: 2, acquireTimeout: 50, failureThreshold: 3, timeout: false, url: undefined })
  t.is(ok.breaker.options.failureThreshold, 3)
  t.is(ok.breaker.options.timeout, false)
})

test('invalid URLs and unknown schemes are TypeErrors that never show the password', (t) => {
  const cases = [
    ['redis://user:Hunter2Pass@127.0.0.1:6379', 'ERR_INVALID_URL_SCHEME'],
    ['http://user:Hunter2Pass@example.test/db', 'ERR_INVALID_URL_SCHEME'],
    ['postgres://user:Hunter2Pass@[::1/db', 'ERR_INVALID_URL'],
    ['postgres://user:Hunter2Pass@/db', 'ERR_INVALID_URL'],
    ['mysql://user:Hunter2Pass@host:99999/db', 'ERR_INVALID_URL'],
    ['not a url Hunter2Pass', 'ERR_INVALID_URL'],
    ['', 'ERR_INVALID_URL'],
  ]
  for (const [url, code] of cases) {
    const err = t.throws(() => make({ url }), { instanceOf: TypeError, code }, url)
    t.false(err.message.includes('Hunter2Pass'), err.message)
  }
  t.is(make({ url: 'postgresql://127.0.0.1/x' }).driver, 'postgres')
  t.is(make({ url: 'mariadb://127.0.0.1/x' }).driver, 'mysql')
  t.is(make({ url: 'sqlite::memory:' }).driver, 'sqlite')
})

test('non-string SQL and non-array params reject with TypeError', async (t) => {
  const db = make()
  for (const sql of [undefined, null, 42, {}, ['SELECT 1'], Symbol('s')]) {
    await t.throwsAsync(db.query(sql), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
    await t.throwsAsync(db.execute(sql), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  }
  await t.throwsAsync(db.query('SELECT 1\0; DROP TABLE x'), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_VALUE' })
  for (const params of ['a', 1, { 0: 'a' }, true]) {
    await t.throwsAsync(db.query('SELECT $1', params), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  }
  t.deepEqual(await db.query('SELECT 1 AS one', null), [{ one: 1 }])
  t.deepEqual(await db.query('SELECT 1 AS one', undefined), [{ one: 1 }])
  t.is(db.getMetrics().totalCalls, 2, 'argument errors are not breaker calls')
})

test('parameters of unsupported types reject with typed errors', async (t) => {
  const db = make()
  const cyclic = {}
  cyclic.self = cyclic
  const selfArray = []
  selfArray.push(selfArray)
  const cases = [
    [() => 1, TypeError, 'ERR_INVALID_ARG_TYPE'],
    [Symbol('x'), TypeError, 'ERR_INVALID_ARG_TYPE'],
    [new Float64Array([1]), TypeError, 'ERR_INVALID_ARG_TYPE'],
    [2n ** 64n, RangeError, 'ERR_OUT_OF_RANGE'],
    [new Date(NaN), TypeError, 'ERR_INVALID_ARG_VALUE'],
    [cyclic, TypeError, 'ERR_INVALID_ARG_VALUE'],
    [selfArray, TypeError, 'ERR_INVALID_ARG_VALUE'],
    [[() => 1], TypeError, 'ERR_INVALID_ARG_TYPE'],
    [{ big: 1n }, TypeError, 'ERR_INVALID_ARG_VALUE'],
  ]
  for (const [param, instanceOf, code] of cases) {
    const err = await t.throwsAsync(db.query('SELECT $1 AS v', [param]), { instanceOf, code })
    t.regex(err.message, /\$1/)
  }
  t.is(db.state, 'CLOSED')
})

test('transaction(fn) with a non-function rejects with TypeError', async (t) => {
  const db = make()
  for (const fn of [undefined, 1, 'x', {}]) {
    await t.throwsAsync(db.transaction(fn), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  }
  await t.throwsAsync(DatabaseCircuitBreaker.prototype.transaction.call({}, () => 1), { instanceOf: Error })
})

test('lone surrogates in SQL and parameters are refused, not replaced by U+FFFD', async (t) => {
  const db = make()
  t.teardown(() => db.close())
  const cases = [
    [() => db.query('SELECT 1 AS "\uD800"'), /"sql"/],
    [() => db.query('SELECT $1 AS a', ['x\uDC00y']), /Parameter \$1 .*lone surrogate/],
    [() => db.execute('SELECT $1, $2', ['ok', '\uD83D']), /Parameter \$2/],
    [() => db.query('SELECT $1 AS a', [['a', '\uD800']]), /Parameter \$1/],
  ]
  for (const [call, pattern] of cases) {
    let promise
    t.notThrows(() => {
      promise = call()
    })
    const err = await t.throwsAsync(promise, { instanceOf: TypeError })
    t.is(err.code, 'ERR_INVALID_ARG_VALUE', err.message)
    t.regex(err.message, pattern)
  }
  // A well-formed pair still round-trips.
  t.deepEqual(await db.query('SELECT $1 AS a', ['\uD83D\uDE00']), [{ a: '\uD83D\uDE00' }])
})
