'use strict'
// The package's error classes, and the helpers that make the errors of the JavaScript half.
//
// Errors made in Rust (by the domain breakers) are instances of these classes too:
// resilience.js registers them with the binding (`__setJsHelpers`, see src/js/helpers.rs), which
// creates them with `new Class(message)` and then sets `code` and their other fields
// (src/js/errors.rs). So the constructors take only what the JavaScript half passes.
//
// `withoutStack`: breaker errors carry no stack. It would only show the package's internals, and
// capturing one is most of the cost of a rejection.
//
// `describe` says what an argument was, in the "Received ..." part of a message, by the same
// rules as the Rust side's `describe` (src/js/describe.rs), so that the message of one code reads
// the same whichever half made it. A string's value is never shown: a string may be a secret (an
// API key, a URL with a password). Reading a constructor's or a function's name may throw (a
// Proxy, a getter) or give something other than a non-empty string: the description then falls
// back to "an object" or "function <anonymous>". Describing never throws, since it runs while an
// error is being made.
//
// This module imports nothing.

/** Rejection when the circuit is open (or half-open with every probe slot taken). */
class CircuitOpenError extends Error {
  constructor(message, breaker) {
    super(message)
    this.code = 'ERR_CIRCUIT_OPEN'
    this.breaker = breaker
  }
}
CircuitOpenError.prototype.name = 'CircuitOpenError'

/** Rejection when a call outlives the breaker's timeout. */
class CircuitTimeoutError extends Error {
  constructor(message, breaker, timeout) {
    super(message)
    this.code = 'ERR_CIRCUIT_TIMEOUT'
    this.breaker = breaker
    this.timeout = timeout
  }
}
CircuitTimeoutError.prototype.name = 'CircuitTimeoutError'

/** An HTTP response with a status the caller must handle (`code` 'ERR_HTTP_STATUS'), or a
 * transport failure (`code` 'ERR_HTTP_*'). */
class HttpError extends Error {}
HttpError.prototype.name = 'HttpError'

/** An error reported by a database or its driver (`code` 'ERR_DB_*'). */
class DatabaseError extends Error {}
DatabaseError.prototype.name = 'DatabaseError'

/** Runs `make` with stack capture off and returns the error it made. */
function withoutStack(make) {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    return make()
  } finally {
    Error.stackTraceLimit = limit
  }
}

/** A non-empty string read from `read()`, or `undefined` when reading throws or gives anything
 * else. */
function nameOf(read) {
  try {
    const name = read()
    return typeof name === 'string' && name !== '' ? name : undefined
  } catch {
    return undefined
  }
}

function isArray(value) {
  try {
    return Array.isArray(value)
  } catch {
    return false // a revoked Proxy
  }
}

/** What `value` is, for the "Received ..." part of an argument error. */
function describe(value) {
  switch (typeof value) {
    case 'undefined':
      return 'undefined'
    case 'number':
      return `type number (${Object.is(value, -0) ? '-0' : String(value)})`
    case 'string':
      return 'type string'
    case 'boolean':
      return `type boolean (${value})`
    case 'bigint':
      return 'type bigint'
    case 'symbol':
      return 'type symbol'
    case 'function':
      return `function ${nameOf(() => value.name) ?? '<anonymous>'}`
    default: {
      if (value === null) return 'null'
      if (isArray(value)) return 'an instance of Array'
      const name = nameOf(() => value.constructor.name)
      return name === undefined ? 'an object' : `an instance of ${name}`
    }
  }
}

/** TypeError `ERR_INVALID_ARG_TYPE`: argument `name` must be of type `expected`. */
function invalidArgType(name, expected, value) {
  const err = new TypeError(`The "${name}" argument must be of type ${expected}. Received ${describe(value)}`)
  err.code = 'ERR_INVALID_ARG_TYPE'
  return err
}

/** TypeError `ERR_INVALID_THIS`: `method` called on something that is not a `className`. */
function invalidThis(method, className) {
  const err = new TypeError(`${method} must be called on a ${className}`)
  err.code = 'ERR_INVALID_THIS'
  return err
}

module.exports = {
  CircuitOpenError,
  CircuitTimeoutError,
  HttpError,
  DatabaseError,
  withoutStack,
  describe,
  invalidArgType,
  invalidThis,
}
