'use strict'
const test = require('ava')
const { CircuitBreaker, CircuitBreakerRegistry } = require('../resilience.js')
const { uniqueName } = require('./_helpers.js')

const typeError = (code) => ({ instanceOf: TypeError, code })
const rangeError = { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' }

// ---- names ------------------------------------------------------------------------------------

const badNameTypes = [
  ['missing', []],
  ['undefined', [undefined]],
  ['null', [null]],
  ['a number', [42]],
  ['an object', [{}]],
  ['an array', [['a']]],
  ['a symbol', [Symbol('s')]],
  ['a String object', [new String('boxed')]], // eslint-disable-line no-new-wrappers
  ['a function', [() => 'name']],
  ['a bigint', [1n]],
  ['a boolean', [true]],
]

for (const [label, args] of badNameTypes) {
  test(`constructor: a name that is ${label} -> TypeError ERR_INVALID_ARG_TYPE`, (t) => {
    t.throws(() => new CircuitBreaker(...args), typeError('ERR_INVALID_ARG_TYPE'))
  })
}

test('constructor: an empty name -> TypeError ERR_INVALID_ARG_VALUE', (t) => {
  const err = t.throws(() => new CircuitBreaker(''), typeError('ERR_INVALID_ARG_VALUE'))
  t.regex(err.message, /name/)
})

test('constructor: a name is checked before the options', (t) => {
  t.throws(() => new CircuitBreaker(42, { failureThreshold: 0 }), typeError('ERR_INVALID_ARG_TYPE'))
})

test('constructor: any non-empty string is a name', (t) => {
  for (const name of [' ', '0', 'a/b:c', 'x'.repeat(10000), '\u0000nul', 'ünï 😀']) {
    t.is(new CircuitBreaker(name).name, name)
  }
})

// ---- thresholds -------------------------------------------------------------------------------

const thresholdFields = ['failureThreshold', 'successThreshold', 'halfOpenMaxCalls']
const outOfRangeCounts = [0, -0, -1, 1.5, 0.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 32 + 1, Number.MAX_VALUE]
const nonNumberCounts = ['5', '', true, false, null, {}, [5], 5n, Symbol('n'), () => 5, new Number(5)] // eslint-disable-line no-new-wrappers

for (const field of thresholdFields) {
  for (const value of outOfRangeCounts) {
    test(`constructor: ${field} = ${Object.is(value, -0) ? '-0' : String(value)} -> RangeError ERR_OUT_OF_RANGE`, (t) => {
      const err = t.throws(() => new CircuitBreaker(uniqueName('v'), { [field]: value }), rangeError)
      t.true(err.message.includes(field), err.message)
    })
  }
  test(`constructor: ${field} that is not a number -> TypeError ERR_INVALID_ARG_TYPE`, (t) => {
    for (const value of nonNumberCounts) {
      const err = t.throws(
        () => new CircuitBreaker(uniqueName('v'), { [field]: value }),
        typeError('ERR_INVALID_ARG_TYPE'),
        String(typeof value),
      )
      t.true(err.message.includes(field), err.message)
    }
  })
}

test('constructor: threshold upper bounds (2**30 - 1 for thresholds, 65535 for halfOpenMaxCalls)', (t) => {
  t.throws(() => new CircuitBreaker(uniqueName('v'), { failureThreshold: 2 ** 30 }), rangeError)
  t.throws(() => new CircuitBreaker(uniqueName('v'), { successThreshold: 2 ** 30 }), rangeError)
  t.throws(() => new CircuitBreaker(uniqueName('v'), { halfOpenMaxCalls: 65536 }), rangeError)
  t.notThrows(() => new CircuitBreaker(uniqueName('v'), { failureThreshold: 1, successThreshold: 1, halfOpenMaxCalls: 1 }))
})

// ---- durations --------------------------------------------------------------------------------

for (const field of ['timeout', 'resetTimeout']) {
  for (const value of [0, -0, -5, -0.5, NaN, Infinity, -Infinity, 2 ** 60]) {
    test(`constructor: ${field} = ${Object.is(value, -0) ? '-0' : String(value)} -> RangeError ERR_OUT_OF_RANGE`, (t) => {
      const err = t.throws(() => new CircuitBreaker(uniqueName('v'), { [field]: value }), rangeError)
      t.true(err.message.includes(field), err.message)
    })
  }
  test(`constructor: ${field} that is a string, null, object or true -> TypeError`, (t) => {
    for (const value of ['100', '', null, {}, [100], true, 100n]) {
      t.throws(() => new CircuitBreaker(uniqueName('v'), { [field]: value }), typeError('ERR_INVALID_ARG_TYPE'))
    }
  })
}

test('constructor: timeout: true is a TypeError, timeout: false disables the deadline', (t) => {
  const err = t.throws(() => new CircuitBreaker(uniqueName('v'), { timeout: true }), typeError('ERR_INVALID_ARG_TYPE'))
  t.regex(err.message, /timeout/)
  t.is(new CircuitBreaker(uniqueName('v'), { timeout: false }).options.timeout, false)
})

test('constructor: resetTimeout: false is a TypeError (it cannot be disabled)', (t) => {
  t.throws(() => new CircuitBreaker(uniqueName('v'), { resetTimeout: false }), typeError('ERR_INVALID_ARG_TYPE'))
})

// ---- option objects ---------------------------------------------------------------------------

test('constructor: unknown option keys -> TypeError ERR_INVALID_ARG_VALUE', (t) => {
  for (const key of ['failurethreshold', 'reset_timeout', 'threshold', 'maxCalls', 'name', 'constructor']) {
    const err = t.throws(
      () => new CircuitBreaker(uniqueName('v'), { failureThreshold: 3, [key]: 1 }),
      typeError('ERR_INVALID_ARG_VALUE'),
      key,
    )
    t.true(err.message.includes(key), err.message)
  }
})

test('constructor: options that are not an object -> TypeError ERR_INVALID_ARG_TYPE', (t) => {
  for (const options of [5, 'options', [], [1, 2], true, Symbol('o'), 1n, () => ({})]) {
    t.throws(() => new CircuitBreaker(uniqueName('v'), options), typeError('ERR_INVALID_ARG_TYPE'), String(typeof options))
  }
})

test('constructor: an option getter that throws propagates its error, synchronously', (t) => {
  const boom = new Error('getter boom')
  const err = t.throws(() =>
    new CircuitBreaker(uniqueName('v'), {
      get failureThreshold() {
        throw boom
      },
    }),
  )
  t.is(err, boom)
})

test('constructor: a Proxy whose traps throw propagates the error', (t) => {
  const boom = new Error('trap boom')
  const options = new Proxy({}, {
    ownKeys() {
      throw boom
    },
  })
  t.is(t.throws(() => new CircuitBreaker(uniqueName('v'), options)), boom)
})

test('constructor: every option is validated, not only the first', (t) => {
  t.throws(() => new CircuitBreaker(uniqueName('v'), { failureThreshold: 3, resetTimeout: 0 }), rangeError)
  t.throws(() => new CircuitBreaker(uniqueName('v'), { successThreshold: 2, halfOpenMaxCalls: 0 }), rangeError)
})

// ---- registry methods -------------------------------------------------------------------------

const registryNameCases = [
  ['undefined', undefined, 'ERR_INVALID_ARG_TYPE'],
  ['null', null, 'ERR_INVALID_ARG_TYPE'],
  ['a number', 7, 'ERR_INVALID_ARG_TYPE'],
  ['an object', {}, 'ERR_INVALID_ARG_TYPE'],
  ['empty', '', 'ERR_INVALID_ARG_VALUE'],
]

for (const method of ['register', 'getOrCreate', 'get', 'remove']) {
  for (const [label, name, code] of registryNameCases) {
    test(`registry.${method} with a name that is ${label} -> TypeError ${code}`, (t) => {
      const registry = new CircuitBreakerRegistry()
      t.throws(() => registry[method](name), typeError(code))
      t.is(registry.size, 0)
    })
  }
}

for (const method of ['register', 'getOrCreate']) {
  test(`registry.${method} with bad options throws synchronously and registers nothing`, (t) => {
    const registry = new CircuitBreakerRegistry()
    const name = uniqueName('v-reg')
    t.throws(() => registry[method](name, { failureThreshold: 0 }), rangeError)
    t.throws(() => registry[method](name, { failureThreshold: '3' }), typeError('ERR_INVALID_ARG_TYPE'))
    t.throws(() => registry[method](name, { resetTimeout: NaN }), rangeError)
    t.throws(() => registry[method](name, { timeout: true }), typeError('ERR_INVALID_ARG_TYPE'))
    t.throws(() => registry[method](name, { bogus: 1 }), typeError('ERR_INVALID_ARG_VALUE'))
    t.throws(() => registry[method](name, 5), typeError('ERR_INVALID_ARG_TYPE'))
    t.throws(() => registry[method](name, []), typeError('ERR_INVALID_ARG_TYPE'))
    t.is(registry.size, 0)
    t.is(registry.get(name), null)
  })
}

test('registry.getOrCreate checks the options even when the breaker exists', (t) => {
  const registry = new CircuitBreakerRegistry()
  const name = uniqueName('v-reg-existing')
  registry.register(name)
  t.throws(() => registry.getOrCreate(name, { failureThreshold: -1 }), rangeError)
  t.throws(() => registry.getOrCreate(name, { nope: true }), typeError('ERR_INVALID_ARG_VALUE'))
  t.is(registry.size, 1)
})

test('registry.register with bad options keeps the breaker already registered under that name', async (t) => {
  const registry = new CircuitBreakerRegistry()
  const name = uniqueName('v-reg-keep')
  const cb = registry.register(name, { failureThreshold: 1, resetTimeout: 60000 })
  await cb.call(() => Promise.reject(new Error('x'))).catch(() => {})
  t.throws(() => registry.register(name, { failureThreshold: 0 }), rangeError)
  t.is(registry.get(name).state, 'OPEN')
})

test('the global registry validates like a private one', (t) => {
  const g = CircuitBreakerRegistry.global()
  t.throws(() => g.register(''), typeError('ERR_INVALID_ARG_VALUE'))
  t.throws(() => g.getOrCreate(uniqueName('v-global'), { timeout: 0 }), rangeError)
  t.throws(() => g.get(1), typeError('ERR_INVALID_ARG_TYPE'))
  t.throws(() => g.remove(null), typeError('ERR_INVALID_ARG_TYPE'))
})

// ---- robustness -------------------------------------------------------------------------------

test('no combination of odd option values crashes: each either builds a breaker or throws a coded TypeError/RangeError', async (t) => {
  const oddValues = [
    undefined, null, true, false, 0, -0, 1, 2, 1.5, -1, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 53,
    Number.MIN_VALUE, Number.MAX_SAFE_INTEGER, '', '1', 'abc', [], [1], {}, { valueOf: () => 3 },
    () => 1, Symbol('x'), 1n, new Date(0), /re/,
  ]
  const fields = ['failureThreshold', 'successThreshold', 'timeout', 'resetTimeout', 'halfOpenMaxCalls', 'other']
  const codes = new Set(['ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE', 'ERR_OUT_OF_RANGE'])
  let built = 0
  let refused = 0
  for (const field of fields) {
    for (const value of oddValues) {
      try {
        const cb = new CircuitBreaker(uniqueName('v-odd'), { [field]: value })
        built++
        t.is(typeof cb.options.failureThreshold, 'number')
      } catch (err) {
        refused++
        t.true(err instanceof TypeError || err instanceof RangeError, `${field}=${String(value)}: ${err}`)
        t.true(codes.has(err.code), `${field}=${String(value)}: code ${err.code}`)
      }
    }
  }
  t.true(built > 0)
  t.true(refused > 0)
  // The addon still works afterwards.
  const cb = new CircuitBreaker(uniqueName('v-after'))
  t.is(await cb.call(async () => 'still alive'), 'still alive')
})
