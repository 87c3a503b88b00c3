'use strict'
// The package entry: the generated loader (index.js) plus the per-call path of
// `CircuitBreaker.prototype.call`, which is the only logic kept in JavaScript.
//
// Why in JavaScript: attaching `then` from Rust costs 0.3-5 us per call and a class-method call
// ~280 ns (see shared research, hot-path.md). Here a call through a closed circuit never enters
// native code: it reads the breaker's state from Rust memory with `Atomics.load` (an external
// ArrayBuffer over the breaker's shared words, the same memory in every worker thread), runs
// `fn`, and counts the success with one `Atomics.add`. Failures, calls while the circuit is not
// closed, and transitions go to the Rust core (`__breaker*` functions, ~100 ns each). The state
// machine itself lives only in Rust.
//
// Timeouts: one interval per thread, running only while timed calls are pending, ticks
// every TICK_MS; a timed call joins the bucket of the tick at which it expires and leaves it in
// O(1) when it settles. No timer per call, no timer per breaker.

const binding = require('./index.js')

const {
  CircuitBreaker,
  __breakerWords: breakerWords,
  __breakerAcquire: breakerAcquire,
  __breakerComplete: breakerComplete,
  __breakerFold: breakerFold,
  __sharedLayout: sharedLayout,
} = binding

const [STATE_SLOT, FAST_SUCCESS_SLOT, MODE_MASK] = sharedLayout()
// Token of a call admitted by the JS fast path (closed circuit); native tokens are >= 0.
const FAST = -2
const FOLD_AT = 0x3fffffff
const TICK_MS = 10

// Error classes. Errors made in Rust (by the domain breakers) are instances of these too: the
// binding creates them with `new Class(message)` and then sets `code` and their other fields.

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

// Query results: the binding hands over every cell of the result as one flat JSON array (or the
// parsed array, when it had cells JSON cannot carry), and the rows are made here with one
// constructor per list of column names. The names are arguments of the generated function,
// never part of its source, and computed keys define own properties (a column named
// `__proto__` is a plain property); a repeated name keeps its first position and its last
// value, as node-postgres does.
const MAX_ROW_SHAPES = 256
const rowShapes = new Map()

function rowShape(columns, columnCount) {
  let make = rowShapes.get(columns)
  if (make === undefined) {
    const names = JSON.parse(columns)
    const keys = names.map((_, j) => `k${j}`)
    const fields = names.map((_, j) => `[k${j}]: v[i + ${j}]`).join(', ')
    const body = `return function rows(v, count) {
      const out = new Array(count)
      for (let r = 0, i = 0; r < count; r++, i += ${columnCount}) out[r] = { ${fields} }
      return out
    }`
    make = new Function(...keys, body)(...names)
    if (rowShapes.size >= MAX_ROW_SHAPES) rowShapes.clear()
    rowShapes.set(columns, make)
  }
  return make
}

function buildRows(columns, columnCount, rowCount, cells) {
  const values = typeof cells === 'string' ? JSON.parse(cells) : cells
  return rowShape(columns, columnCount)(values, rowCount)
}

binding.__setJsHelpers({ CircuitOpenError, CircuitTimeoutError, HttpError, DatabaseError, buildRows })

// Breaker errors carry no stack: it would only show this module's internals, and capturing one
// is most of the cost of a rejection.
function withoutStack(make) {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    return make()
  } finally {
    Error.stackTraceLimit = limit
  }
}

function describe(value) {
  if (value === null) return 'null'
  if (typeof value === 'object') return `an instance of ${value.constructor?.name ?? 'Object'}`
  return `type ${typeof value} (${String(value)})`
}

function invalidFn(fn) {
  const err = new TypeError(`The "fn" argument must be of type function. Received ${describe(fn)}`)
  err.code = 'ERR_INVALID_ARG_TYPE'
  return err
}

/** Per-breaker state of the call path, made on the first call of each JS wrapper. */
class CallPath {
  constructor(breaker) {
    this.handle = breaker.__handle()
    this.name = breaker.name
    const { timeout } = breaker.options
    this.timeout = timeout === false ? 0 : timeout
    this.ticks = this.timeout === 0 ? 0 : Math.ceil(this.timeout / TICK_MS) + 1
    this.openMessage = `Circuit breaker '${this.name}' is OPEN`
    this.timeoutMessage = `Circuit breaker '${this.name}' timed out after ${this.timeout} ms`
    try {
      this.words = new Int32Array(breakerWords(this.handle))
    } catch {
      // The runtime forbids external buffers: a state slot that never reads CLOSED sends every
      // call through the native path, which is slower but exact.
      this.words = new Int32Array([1, 0, 0, 0])
    }
    this.onOk = (value) => {
      fastSuccess(this)
      return value
    }
    this.onError = (error) => {
      breakerComplete(this.handle, 0, false)
      throw error
    }
  }
}

const kCallPath = Symbol('neural-trader.resilience.callPath')

function callPathOf(breaker) {
  if (!(breaker instanceof CircuitBreaker)) {
    const err = new TypeError('CircuitBreaker.prototype.call must be called on a CircuitBreaker')
    err.code = 'ERR_INVALID_THIS'
    throw err
  }
  return breaker[kCallPath] ?? (breaker[kCallPath] = new CallPath(breaker))
}

function fastSuccess(path) {
  const words = path.words
  if (Atomics.load(words, STATE_SLOT) === 0) {
    if (Atomics.add(words, FAST_SUCCESS_SLOT, 1) >= FOLD_AT) breakerFold(path.handle)
  } else {
    // A failure count to clear, or the circuit moved on: let the core decide.
    breakerComplete(path.handle, 0, true)
  }
}

function report(path, token, ok) {
  if (token === FAST) {
    if (ok) fastSuccess(path)
    else breakerComplete(path.handle, 0, false)
  } else {
    breakerComplete(path.handle, token, ok)
  }
}

function isThenable(value) {
  return (
    value instanceof Promise ||
    (value !== null &&
      (typeof value === 'object' || typeof value === 'function') &&
      typeof value.then === 'function')
  )
}

function asPromise(thenable) {
  return thenable instanceof Promise ? thenable : Promise.resolve(thenable)
}

/**
 * Runs `fn` through the breaker and settles with exactly what `fn` returned, resolved, threw or
 * rejected with; rejects with a `CircuitOpenError` when the circuit is open and a
 * `CircuitTimeoutError` when `fn` outlives the timeout.
 */
function call(fn) {
  if (typeof fn !== 'function') return Promise.reject(invalidFn(fn))
  let path = this?.[kCallPath]
  if (path === undefined) {
    try {
      path = callPathOf(this)
    } catch (error) {
      return Promise.reject(error)
    }
  }
  if ((Atomics.load(path.words, STATE_SLOT) & MODE_MASK) === 0) return run(path, fn, FAST)
  const token = breakerAcquire(path.handle)
  if (token < 0) {
    return Promise.reject(withoutStack(() => new CircuitOpenError(path.openMessage, path.name)))
  }
  return run(path, fn, token)
}

// Runs an admitted call: `token` is FAST (admitted here, circuit closed) or the core's permit.
function run(path, fn, token) {
  let result
  let thenable
  try {
    result = fn()
    thenable = isThenable(result) // a throwing `then` getter counts as fn throwing
  } catch (error) {
    report(path, token, false)
    return Promise.reject(error)
  }
  if (!thenable) {
    report(path, token, true)
    return Promise.resolve(result)
  }
  const promise = asPromise(result)
  if (path.ticks !== 0) return withTimeout(path, promise, token)
  // The common case allocates nothing: handlers cached per breaker.
  if (token === FAST) return promise.then(path.onOk, path.onError)
  return promise.then(
    (value) => {
      report(path, token, true)
      return value
    },
    (error) => {
      report(path, token, false)
      throw error
    },
  )
}

// ---- timeouts -------------------------------------------------------------------------------

// Deadlines are counted in ticks of real time (not in firings of the interval, which a busy
// event loop delays), so a call never outlives its timeout by more than the interval's lateness.
const epoch = performance.now()
function clockTick() {
  return Math.floor((performance.now() - epoch) / TICK_MS)
}

let expiredUpTo = 0 // every bucket due at or before this tick has been expired
let timer = null
let pending = 0
const buckets = new Map()
let lastDue = -1
let lastBucket = null

class TimedCall {
  constructor(path, token) {
    this.path = path
    this.token = token
    this.resolve = null
    this.reject = null
    this.bucket = null
    this.index = 0
  }
}

function withTimeout(path, promise, token) {
  const timed = new TimedCall(path, token)
  const outer = new Promise((resolve, reject) => {
    timed.resolve = resolve
    timed.reject = reject
  })
  schedule(timed, path.ticks)
  promise.then(
    (value) => {
      if (unschedule(timed)) {
        report(path, token, true)
        timed.resolve(value)
      }
    },
    (error) => {
      if (unschedule(timed)) {
        report(path, token, false)
        timed.reject(error)
      }
    },
  )
  return outer
}

function schedule(timed, ticks) {
  const due = clockTick() + ticks
  let bucket = lastBucket
  if (due !== lastDue) {
    bucket = buckets.get(due)
    if (bucket === undefined) {
      bucket = []
      buckets.set(due, bucket)
    }
    lastDue = due
    lastBucket = bucket
  }
  timed.bucket = bucket
  timed.index = bucket.length
  bucket.push(timed)
  pending++
  if (timer === null) {
    // Ref'd on purpose, like any pending deadline: it runs only while timed calls are pending.
    expiredUpTo = clockTick()
    timer = setInterval(onTick, TICK_MS)
  }
}

// Takes a call out of its bucket; false if it already timed out.
function unschedule(timed) {
  const bucket = timed.bucket
  if (bucket === null) return false
  timed.bucket = null
  const last = bucket.pop()
  if (last !== timed) {
    bucket[timed.index] = last
    last.index = timed.index
  }
  pending--
  return true
}

function onTick() {
  const now = clockTick()
  while (expiredUpTo < now) {
    expiredUpTo++
    const expired = buckets.get(expiredUpTo)
    if (expired !== undefined) expire(expired)
  }
  if (pending === 0) {
    clearInterval(timer)
    timer = null
    buckets.clear()
    lastDue = -1
    lastBucket = null
  }
}

function expire(expired) {
  buckets.delete(expiredUpTo)
  if (expired === lastBucket) {
    lastDue = -1
    lastBucket = null
  }
  for (const timed of expired) {
    timed.bucket = null
    pending--
    const { path } = timed
    report(path, timed.token, false)
    timed.reject(withoutStack(() => new CircuitTimeoutError(path.timeoutMessage, path.name, path.timeout)))
  }
}

// ---- DatabaseCircuitBreaker.prototype.transaction --------------------------------------------
// The orchestration of a transaction, kept here so that the callback's result and error are
// returned as they are (the same objects). `__begin()` takes a breaker permit and a connection
// (rejecting with CircuitOpenError when the circuit is open); the transaction commits when `fn`
// resolves and rolls back when it throws or rejects. The breaker's timeout covers the whole
// transaction: when it elapses the transaction is rolled back and this rejects with
// CircuitTimeoutError, whatever `fn` does later (its operations then reject too).

function invalidTransactionFn(fn) {
  const err = new TypeError(`The "fn" argument must be of type function. Received ${describe(fn)}`)
  err.code = 'ERR_INVALID_ARG_TYPE'
  return err
}

function transaction(fn) {
  if (typeof fn !== 'function') return Promise.reject(invalidTransactionFn(fn))
  let begun
  try {
    begun = this.__begin()
  } catch (error) {
    return Promise.reject(error)
  }
  return begun.then(
    (tx) =>
      new Promise((resolve, reject) => {
        let settled = false
        const remaining = tx.__remaining()
        const timer =
          remaining === null || remaining === undefined
            ? null
            : setTimeout(() => {
                if (settled) return
                settled = true
                tx.__timeout().then(resolve, reject)
              }, Math.max(0, Math.ceil(remaining)))
        const finish = () => {
          settled = true
          if (timer !== null) clearTimeout(timer)
        }
        let result
        try {
          result = Promise.resolve(fn(tx))
        } catch (error) {
          result = Promise.reject(error)
        }
        result.then(
          (value) => {
            if (settled) return
            finish()
            tx.__commit().then(() => resolve(value), reject)
          },
          (error) => {
            if (settled) return
            finish()
            const fail = () => reject(error)
            tx.__rollback().then(fail, fail)
          },
        )
      }),
  )
}

if (binding.DatabaseCircuitBreaker !== undefined) {
  Object.defineProperty(binding.DatabaseCircuitBreaker.prototype, 'transaction', {
    value: transaction,
    writable: true,
    configurable: true,
    enumerable: false,
  })
}

Object.defineProperty(CircuitBreaker.prototype, 'call', {
  value: call,
  writable: true,
  configurable: true,
  enumerable: false,
})

// The native half of the call path stays private.
const internal = new Set([
  '__breakerWords',
  '__breakerAcquire',
  '__breakerComplete',
  '__breakerFold',
  '__sharedLayout',
  '__setJsHelpers',
])
const publicExports = {}
for (const key of Object.keys(binding)) {
  if (!internal.has(key)) publicExports[key] = binding[key]
}
publicExports.CircuitOpenError = CircuitOpenError
publicExports.CircuitTimeoutError = CircuitTimeoutError
publicExports.HttpError = HttpError
publicExports.DatabaseError = DatabaseError

module.exports = publicExports
