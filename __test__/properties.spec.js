'use strict'
// Property tests (fast-check) of argument handling: whatever JS value reaches a method, a
// Promise-returning method returns a promise (never throws) that resolves or rejects with a
// typed error carrying a stable code; a constructor returns or throws a typed error; strings
// round-trip exactly when well-formed and are refused when not.
const test = require('ava')
const fc = require('fast-check')

const { ApiCircuitBreaker, CircuitBreaker, DatabaseCircuitBreaker, NeuralCircuitBreaker } = require('../resilience.js')
const { uniqueName } = require('./_helpers.js')

const RUNS = { numRuns: 200 }

/** One UTF-16 code unit (lone surrogates included) or one code point of any plane. */
const anyUnit = fc.oneof(
  fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
)
/** Any JS string, well-formed or not (fast-check's own units never make a lone surrogate). */
const anyString = (constraints = {}) => fc.string({ unit: anyUnit, ...constraints })

/** Any JS value, with the awkward ones fast-check knows (sparse arrays, -0, typed arrays...). */
const anyValue = fc.anything({
  stringUnit: anyUnit,
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withNullPrototype: true,
  withObjectString: true,
  withSet: true,
  withSparseArray: true,
  withTypedArray: true,
})

/** Whether `error` is one of the typed errors arguments may give. */
function isTyped(error) {
  return (
    (error instanceof TypeError || error instanceof RangeError || error instanceof Error) &&
    typeof error.code === 'string' &&
    /^ERR_[A-Z0-9_]+$/.test(error.code)
  )
}

/** Runs `start`; it must return a promise, which settles with a value or a typed error. */
async function settlesTyped(start) {
  let promise
  try {
    promise = start()
  } catch (error) {
    throw new Error(`threw synchronously: ${error?.code} ${error?.message}`)
  }
  if (!(promise instanceof Promise)) throw new Error('did not return a promise')
  try {
    await promise
  } catch (error) {
    if (!isTyped(error)) throw new Error(`rejected with an untyped error: ${error?.constructor?.name} ${error?.code} ${error?.message}`)
  }
  return true
}

test('query parameters of any value resolve or reject typed (SQLite)', async (t) => {
  const db = new DatabaseCircuitBreaker(uniqueName('prop-db'))
  t.teardown(() => db.close())
  await fc.assert(
    fc.asyncProperty(fc.array(anyValue, { maxLength: 4 }), async (params) => {
      const sql = `SELECT ${params.map((_, i) => `$${i + 1}`).join(', ') || '1'}`
      return settlesTyped(() => db.query(sql, params))
    }),
    RUNS,
  )
  await fc.assert(fc.asyncProperty(anyValue, anyValue, async (sql, params) => settlesTyped(() => db.query(sql, params))), RUNS)
  t.is(db.getMetrics().failedCalls, 0, 'no argument counted against the database')
})

test('a string parameter round-trips exactly when well-formed and is refused otherwise', async (t) => {
  const db = new DatabaseCircuitBreaker(uniqueName('prop-str'))
  t.teardown(() => db.close())
  await fc.assert(
    fc.asyncProperty(anyString(), async (s) => {
      const wellFormed = s.isWellFormed()
      try {
        const [row] = await db.query('SELECT $1 AS s', [s])
        return wellFormed && row.s === s
      } catch (error) {
        return !wellFormed && error instanceof TypeError && error.code === 'ERR_INVALID_ARG_VALUE'
      }
    }),
    RUNS,
  )
  t.pass()
})

test('neural arguments of any value resolve or reject typed', async (t) => {
  const nn = new NeuralCircuitBreaker(uniqueName('prop-nn'))
  const row = fc.array(fc.oneof(fc.double(), anyValue), { maxLength: 3 })
  await fc.assert(fc.asyncProperty(fc.oneof(anyValue, row), async (features) => settlesTyped(() => nn.predict(features))), RUNS)
  await fc.assert(
    fc.asyncProperty(fc.oneof(anyValue, fc.array(row, { maxLength: 3 })), fc.oneof(anyValue, row), async (data, labels) =>
      settlesTyped(() => nn.train(data, labels, { epochs: 1, hiddenSizes: [] })),
    ),
    RUNS,
  )
  t.pass()
})

test('options objects of any shape are accepted or refused with a typed error', (t) => {
  const options = fc.oneof(
    anyValue,
    fc.dictionary(fc.constantFrom('timeout', 'failureThreshold', 'resetTimeout', 'headers', 'baseUrl', 'maxResponseBytes', 'x'), anyValue),
  )
  for (const Class of [CircuitBreaker, ApiCircuitBreaker]) {
    fc.assert(
      fc.property(options, (o) => {
        try {
          new Class(uniqueName('prop-opt'), o)
        } catch (error) {
          return isTyped(error) && (error instanceof TypeError || error instanceof RangeError)
        }
        return true
      }),
      RUNS,
    )
  }
  t.pass()
})

test('header names and values of any string are accepted only when well-formed', (t) => {
  fc.assert(
    fc.property(fc.dictionary(anyString({ maxLength: 8 }), anyString({ maxLength: 8 }), { maxKeys: 3 }), (headers) => {
      try {
        new ApiCircuitBreaker(uniqueName('prop-h'), { headers })
      } catch (error) {
        return error instanceof TypeError && error.code === 'ERR_INVALID_ARG_VALUE'
      }
      return Object.entries(headers).every(([k, v]) => k.isWellFormed() && v.isWellFormed())
    }),
    RUNS,
  )
  t.pass()
})
