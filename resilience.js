'use strict'
// The package entry: the generated napi loader (index.js) plus what is written in JavaScript,
// one concern per file of lib/:
//
//   lib/errors.js       the error classes, and the helpers for errors made in JavaScript
//   lib/call.js         CircuitBreaker.prototype.call, the per-call path (closed circuit without
//                       native calls)
//   lib/deadline.js     the timer wheel of call deadlines, used by lib/call.js
//   lib/rows.js         the row objects of database query results
//   lib/transaction.js  DatabaseCircuitBreaker.prototype.transaction
//   lib/receiver.js     ERR_INVALID_THIS for the native classes' methods on a wrong receiver
//   lib/identity.js     one JS object per breaker per thread (registry lookups, `breaker` getters)
//   lib/inspect.js      what util.inspect, console.log and JSON.stringify show of the classes
//
// This file only wires them together: it registers the error classes and the row builder with
// the binding (each thread that loads the package registers its own, see src/js/helpers.rs),
// installs `call`, `transaction` and `[Symbol.asyncDispose]` on the generated classes, guards the
// receivers of the other methods, and exports the binding without its private functions, plus
// the error classes, in statements Node's ESM loader can read (see the end of this file). The lib/ files import only each other (never
// this file) and ../index.js.

const binding = require('./index.js')
const { CircuitOpenError, CircuitTimeoutError, HttpError, DatabaseError } = require('./lib/errors.js')
const { buildRows } = require('./lib/rows.js')
const { call } = require('./lib/call.js')
const { transaction } = require('./lib/transaction.js')
const { guardReceivers } = require('./lib/receiver.js')
const { keepIdentity } = require('./lib/identity.js')
const { makeReadable } = require('./lib/inspect.js')

// The realm's own Error, TypeError and RangeError too: errors the native side makes are then
// instances of the classes of the realm that loaded this file (a jest or vitest test file runs
// in a realm of its own, while the addon is loaded once per thread), so `toThrow(RangeError)`
// and `instanceof Error` hold there.
binding.__setJsHelpers({
  CircuitOpenError,
  CircuitTimeoutError,
  HttpError,
  DatabaseError,
  buildRows,
  Error,
  TypeError,
  RangeError,
})

function defineMethod(prototype, name, value) {
  Object.defineProperty(prototype, name, { value, writable: true, configurable: true, enumerable: false })
}

if (binding.DatabaseCircuitBreaker !== undefined) {
  defineMethod(binding.DatabaseCircuitBreaker.prototype, 'transaction', transaction)
}
defineMethod(binding.CircuitBreaker.prototype, 'call', call)

// `call` and `transaction` check their receiver themselves (lib/call.js, lib/transaction.js).
const classes = [
  'CircuitBreaker',
  'CircuitBreakerRegistry',
  'ApiCircuitBreaker',
  'DatabaseCircuitBreaker',
  'DatabaseTransaction',
  'E2BSandboxCircuitBreaker',
  'NeuralCircuitBreaker',
  'TradingSystemCircuitBreakers',
]
for (const name of classes) {
  if (binding[name] !== undefined) {
    guardReceivers(binding[name], name, ['call', 'transaction'])
    if (name !== 'DatabaseTransaction') makeReadable(binding[name], name)
  }
}
keepIdentity(binding)

// `await using api = new ApiCircuitBreaker(...)` closes the breaker when the scope ends: the
// dispose method is `close()` (a symbol-keyed method cannot be declared from Rust by napi; Node 20
// defines the symbol).
function asyncDispose() {
  return this.close()
}
if (typeof Symbol.asyncDispose === 'symbol') {
  const closable = ['ApiCircuitBreaker', 'DatabaseCircuitBreaker', 'E2BSandboxCircuitBreaker', 'NeuralCircuitBreaker']
  for (const name of closable) {
    if (binding[name] !== undefined) defineMethod(binding[name].prototype, Symbol.asyncDispose, asyncDispose)
  }
}

// The exports, one statement each. Node's ESM loader learns the names of a CommonJS module by
// reading its source (cjs-module-lexer), not by running it: only `exports.Name = ...` statements
// are seen, so `import { CircuitBreaker } from '@neural-trader/resilience'` and `import * as ns`
// work from .mjs files, from TypeScript under `module: nodenext` and from bundlers, with the very
// classes `require()` returns (one module, one instance of each class: no dual-package hazard).
// A name left out here would exist for `require()` only, so __test__/esm.spec.js checks that this
// list is exactly the binding's public names. The native half of the call path and the helper
// registration (`__breakerWords`, `__breakerAcquire`, `__breakerComplete`, `__breakerFold`,
// `__sharedLayout`, `__setJsHelpers`, `__skipTime`, `__clockWords`, `__clockKeep`, `__clockRun`)
// stay private. `__napiBindingTarget` is napi-rs's marker of the artifact that loaded (declared
// in index.d.ts), kept as it was.
exports.ApiCircuitBreaker = binding.ApiCircuitBreaker
exports.CircuitBreaker = binding.CircuitBreaker
exports.CircuitBreakerRegistry = binding.CircuitBreakerRegistry
exports.DatabaseCircuitBreaker = binding.DatabaseCircuitBreaker
exports.DatabaseTransaction = binding.DatabaseTransaction
exports.E2BSandboxCircuitBreaker = binding.E2BSandboxCircuitBreaker
exports.NeuralCircuitBreaker = binding.NeuralCircuitBreaker
exports.TradingSystemCircuitBreakers = binding.TradingSystemCircuitBreakers
exports.__napiBindingTarget = binding.__napiBindingTarget
exports.CircuitOpenError = CircuitOpenError
exports.CircuitTimeoutError = CircuitTimeoutError
exports.HttpError = HttpError
exports.DatabaseError = DatabaseError
