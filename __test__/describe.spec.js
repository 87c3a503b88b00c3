'use strict'
// The "Received ..." part of the argument errors made in JavaScript (lib/errors.js `describe`):
// the rules the Rust side's messages follow too. String values are never shown (a string may be
// a secret), and describing never throws, whatever the value.
const test = require('ava')

const { describe } = require('../lib/errors.js')
const { CircuitBreaker, DatabaseCircuitBreaker } = require('../resilience.js')
const { uniqueName } = require('./_helpers.js')

function revokedProxy() {
  const { proxy, revoke } = Proxy.revocable({}, {})
  revoke()
  return proxy
}

const throwingTrap = { get() { throw new Error('trap') } }

const cases = [
  [null, 'null'],
  [undefined, 'undefined'],
  [42, 'type number (42)'],
  [1.5, 'type number (1.5)'],
  [0, 'type number (0)'],
  [-0, 'type number (-0)'],
  [NaN, 'type number (NaN)'],
  [-Infinity, 'type number (-Infinity)'],
  ['sk-secret-key', 'type string'],
  ['', 'type string'],
  [true, 'type boolean (true)'],
  [false, 'type boolean (false)'],
  [10n, 'type bigint'],
  [Symbol('s'), 'type symbol'],
  [function named() {}, 'function named'],
  [class Klass {}, 'function Klass'],
  [[() => 1][0], 'function <anonymous>'],
  [new Proxy(function proxied() {}, throwingTrap), 'function <anonymous>'],
  [[], 'an instance of Array'],
  [[1, 2], 'an instance of Array'],
  [new Proxy([], {}), 'an instance of Array'],
  [{}, 'an instance of Object'],
  [new Map(), 'an instance of Map'],
  [Promise.resolve(1), 'an instance of Promise'],
  [new Float64Array(1), 'an instance of Float64Array'],
  [new (class Order {})(), 'an instance of Order'],
  [Object.create(null), 'an object'],
  [{ constructor: { name: '' } }, 'an object'],
  [{ constructor: { name: 7 } }, 'an object'],
  [{ get constructor() { throw new Error('getter') } }, 'an object'],
  [new Proxy({}, throwingTrap), 'an object'],
  [revokedProxy(), 'an object'],
]

test('describe follows the rules for every kind of value', (t) => {
  for (const [value, expected] of cases) t.is(describe(value), expected)
})

test('call(fn) with a non-function names what it received', async (t) => {
  const cb = new CircuitBreaker(uniqueName('describe'))
  for (const [value, expected] of cases) {
    if (typeof value === 'function') continue
    const err = await t.throwsAsync(cb.call(value), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
    t.is(err.message, `The "fn" argument must be of type function. Received ${expected}`)
  }
})

test('transaction(fn) with a non-function names what it received', async (t) => {
  const db = new DatabaseCircuitBreaker(uniqueName('describe-db'))
  for (const [value, expected] of cases) {
    if (typeof value === 'function') continue
    const err = await t.throwsAsync(db.transaction(value), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
    t.is(err.message, `The "fn" argument must be of type function. Received ${expected}`)
  }
  await db.close()
})
