'use strict'
// A method of the native classes called on the wrong receiver (`CircuitBreaker.prototype.getState
// .call({})`, a method passed around without its object) is a TypeError `ERR_INVALID_THIS`, and
// a Promise-returning method rejects with it rather than throwing, as for any other bad argument.
//
// Why a wrapper in JavaScript: napi-rs checks the receiver before any of our Rust runs, and
// reports it in ways of its own: V8's "Illegal invocation" TypeError without a code (for
// methods, whose templates carry a signature) and, for getters, an Error with `code:
// 'InvalidArg'` ("Failed to unwrap ..." for a plain object, "Value is not an instance of class
// ..." for an instance of another native class). resilience.js installs `guardReceivers` once at load over every
// public method and getter of the exported classes: the original runs inside a try, and only
// those two errors are replaced. A try costs nothing on the path that does not throw
// (bench/receiver.js measures a wrapped `getState` against the bare one).
//
// Not wrapped: `CircuitBreaker.prototype.call` (lib/call.js checks its receiver itself, on the
// per-call path that must stay as it is) and the private `__` methods.
//
// The wrapper also lets breaker time follow fake timers before the native method runs
// (lib/clock.js).
//
// Imports: lib/errors.js, lib/clock.js.

const { invalidThis } = require('./errors.js')
const { followFakeTime } = require('./clock.js')

// The methods that return a Promise, by class: they reject instead of throwing. Checked against
// the typings (index.d.ts) by __test__/receiver.spec.js.
const PROMISE_METHODS = {
  ApiCircuitBreaker: ['get', 'post', 'put', 'delete', 'request', 'close'],
  DatabaseCircuitBreaker: ['query', 'execute', 'close', 'transaction'],
  DatabaseTransaction: ['query', 'execute'],
  E2BSandboxCircuitBreaker: [
    'createSandbox',
    'executeCode',
    'stopSandbox',
    'setSandboxTimeout',
    'listSandboxes',
    'close',
  ],
  NeuralCircuitBreaker: ['train', 'predict', 'save', 'load', 'close'],
}

/** Whether `error` is napi-rs's report of a receiver that is not an instance of the class. */
function isWrongReceiver(error) {
  if (error === null || typeof error !== 'object') return false
  // Not `instanceof TypeError`: V8 makes this error in the realm of the native class, which is
  // not this file's realm under jest or vitest (see nativeDescriptors below).
  if (error.name === 'TypeError' && error.code === undefined && error.message === 'Illegal invocation') return true
  if (error.code !== 'InvalidArg' || typeof error.message !== 'string') return false
  return error.message.startsWith('Failed to unwrap') || error.message.startsWith('Value is not an instance of class')
}

const NO_ARGUMENTS = Object.freeze([])

function guardMethod(className, name, original, returnsPromise) {
  const label = `${className}.prototype.${name}`
  const guarded = {
    [name](...args) {
      followFakeTime()
      try {
        return Reflect.apply(original, this, args)
      } catch (error) {
        if (!isWrongReceiver(error)) throw error
        if (returnsPromise) return Promise.reject(invalidThis(label, className))
        throw invalidThis(label, className)
      }
    },
  }[name]
  return guarded
}

function guardGetter(className, name, original) {
  const label = `${className}.prototype.${name}`
  return {
    get [name]() {
      followFakeTime()
      try {
        return Reflect.apply(original, this, NO_ARGUMENTS)
      } catch (error) {
        if (isWrongReceiver(error)) throw invalidThis(label, className)
        throw error
      }
    },
  }
}

// The native classes are shared by every realm that loads the package in one thread: jest loads
// the addon once per worker with the outer realm's `require` and runs resilience.js again in each
// test file's realm. So the native descriptors are kept on the prototype (under a key every
// realm shares) the first time, and each load wraps those, never the previous load's wrappers.
const kNative = Symbol.for('@neural-trader/resilience.nativeDescriptors')

/** The own properties `prototype` had before any load of this package changed it. */
function nativeDescriptors(prototype) {
  if (Object.prototype.hasOwnProperty.call(prototype, kNative)) return prototype[kNative]
  const descriptors = new Map()
  for (const name of Object.getOwnPropertyNames(prototype)) {
    descriptors.set(name, Object.getOwnPropertyDescriptor(prototype, name))
  }
  Object.defineProperty(prototype, kNative, { value: descriptors })
  return descriptors
}

/** Wraps every public method and getter of `Class` (named `className`), but `skip`. */
function guardReceivers(Class, className, skip = []) {
  const prototype = Class.prototype
  const promises = new Set(PROMISE_METHODS[className] ?? [])
  for (const [name, native] of nativeDescriptors(prototype)) {
    if (name === 'constructor' || name.startsWith('__') || skip.includes(name)) continue
    const descriptor = { ...native }
    if (typeof descriptor.value === 'function') {
      descriptor.value = guardMethod(className, name, descriptor.value, promises.has(name))
    } else if (typeof descriptor.get === 'function') {
      descriptor.get = Object.getOwnPropertyDescriptor(guardGetter(className, name, descriptor.get), name).get
    } else {
      continue
    }
    Object.defineProperty(prototype, name, descriptor)
  }
}

module.exports = { guardReceivers, isWrongReceiver, nativeDescriptors, PROMISE_METHODS }
