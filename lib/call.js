'use strict'
// The per-call path: `call`, which resilience.js installs as `CircuitBreaker.prototype.call`.
//
// Why in JavaScript: attaching `then` to a promise from Rust costs 0.3-5 us per call, and a call
// of a method of a napi class ~280 ns. Here a call through a closed circuit never enters native
// code: it reads the breaker's state from Rust memory with a plain load (an external
// ArrayBuffer over the breaker's shared words, the same memory in every worker thread), runs
// `fn`, and counts the success with one `Atomics.add`. That costs ~48 ns over a bare `await fn()`
// (bench/RESULTS.md, `{ timeout: false }`). Failures, calls while the circuit is not closed, and
// transitions go to the Rust core through the `__breaker*` functions of the generated loader
// (~100 ns each, src/breaker/fast_path.rs). The state machine itself lives only in Rust.
//
// Built for that cost: the per-breaker state (`CallPath`) is made on the first call and kept on
// the breaker under a symbol, with the success and failure handlers made once per breaker, so
// that an untimed call through a closed circuit allocates nothing but the promise `then`
// returns; every function below is module-level and called directly (the native functions and
// those of lib/deadline.js are bound to constants once, at load).
//
// A timed call (the breaker's `timeout`, 30 s by default) joins the timer wheel of
// lib/deadline.js as a `TimedCall`, and settles with whichever comes first: `fn`'s outcome or
// the deadline (a CircuitTimeoutError; `fn`'s later outcome is then ignored).
//
// Under fake timers the native half is told how far the fake clock moved before each of its
// calls (lib/clock.js), so an open circuit half-opens on fake time.
//
// Imports: the generated loader (../index.js), lib/errors.js, lib/deadline.js, lib/clock.js,
// lib/receiver.js.

const {
  CircuitBreaker,
  __breakerWords: breakerWords,
  __breakerAcquire: breakerAcquire,
  __breakerComplete: breakerComplete,
  __breakerFold: breakerFold,
  __sharedLayout: sharedLayout,
} = require('../index.js')
const {
  CircuitOpenError,
  CircuitTimeoutError,
  withoutStack,
  invalidArgType,
  invalidThis,
} = require('./errors.js')
const { TICK_MS, schedule, unschedule } = require('./deadline.js')
const { followFakeTime } = require('./clock.js')
const { isWrongReceiver } = require('./receiver.js')

const [STATE_SLOT, FAST_SUCCESS_SLOT, MODE_MASK] = sharedLayout()
// The state slot is read with a plain load, not `Atomics.load`: V8 11.3 (Node 20) does not inline
// `Atomics` (~12 ns each against ~1 ns). The slot is one aligned 32-bit word that only the core
// changes, by compare-and-swap: a load never sees half of a write (x86-64, AArch64), and no load
// here is repeated in a loop the compiler could hoist it out of. The state may change right
// after it is read either way (the core owns every transition). The fast-success count stays an
// `Atomics.add`: it is a read-modify-write shared with Rust.
// Token of a call admitted by the JS fast path (closed circuit); native tokens are >= 0.
const FAST = -2
// The fast-success counter (an Int32 slot) is folded into the core's 64-bit totals from here on.
const FOLD_AT = 0x3fffffff

/** Per-breaker state of the call path, made on the first call of each JS wrapper. What only
 * failures, rejections and timeouts need (the native handle, the name, the messages) is made
 * when first needed: a breaker that only ever succeeds keeps none of it (bench/memory.js). */
class CallPath {
  constructor(breaker) {
    this.breaker = breaker
    this.handle = null // handleOf
    const options = breaker.options
    this.timeout = options.timeout === false ? 0 : options.timeout
    this.ticks = this.timeout === 0 ? 0 : Math.ceil(this.timeout / TICK_MS) + 1
    this.stackTrace = options.stackTrace !== false
    this.openMessage = null // openMessage
    try {
      // The handle only lends the words their breaker: it is dropped once they are mapped.
      this.words = new Int32Array(breakerWords(breaker.__handle()))
    } catch (error) {
      if (isWrongReceiver(error)) throw error
      // The runtime forbids external buffers: a state slot that never reads CLOSED sends every
      // call through the native path, which is slower but exact.
      this.words = new Int32Array([1, 0, 0, 0])
    }
    this.onOk = (value) => {
      fastSuccess(this)
      return value
    }
    this.onError = (error) => {
      followFakeTime()
      breakerComplete(handleOf(this), 0, false)
      throw error
    }
  }
}

/** The handle the native half of the call path takes, made on first use. */
function handleOf(path) {
  if (path.handle === null) path.handle = path.breaker.__handle()
  return path.handle
}

const kCallPath = Symbol('neural-trader.resilience.callPath')

function callPathOf(breaker) {
  const wrongThis = () => invalidThis('CircuitBreaker.prototype.call', 'CircuitBreaker')
  if (!(breaker instanceof CircuitBreaker)) throw wrongThis()
  let path = breaker[kCallPath]
  if (path === undefined) {
    // `Object.create(CircuitBreaker.prototype)` passes `instanceof`; the native side refuses it.
    try {
      path = new CallPath(breaker)
    } catch (error) {
      throw isWrongReceiver(error) ? wrongThis() : error
    }
    breaker[kCallPath] = path
  }
  return path
}

function fastSuccess(path) {
  const words = path.words
  if (words[STATE_SLOT] === 0) {
    if (Atomics.add(words, FAST_SUCCESS_SLOT, 1) >= FOLD_AT) breakerFold(handleOf(path))
  } else {
    // A failure count to clear, or the circuit moved on: let the core decide.
    followFakeTime()
    breakerComplete(handleOf(path), 0, true)
  }
}

function report(path, token, ok) {
  if (token === FAST && ok) {
    fastSuccess(path)
    return
  }
  followFakeTime()
  breakerComplete(handleOf(path), token === FAST ? 0 : token, ok)
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
  if (typeof fn !== 'function') return Promise.reject(invalidArgType('fn', 'function', fn))
  let path = this?.[kCallPath]
  if (path === undefined) {
    try {
      path = callPathOf(this)
    } catch (error) {
      return Promise.reject(error)
    }
  }
  if ((path.words[STATE_SLOT] & MODE_MASK) === 0) return run(path, fn, FAST)
  followFakeTime()
  const token = breakerAcquire(handleOf(path))
  if (token < 0) return rejectOpen(path)
  return run(path, fn, token)
}

// The rejection of a call the circuit refused: with a stack that starts at the caller of `call`
// (as any Node error's would), or none with `stackTrace: false`, where rejections are hot and a
// stack costs most of their price (bench/index.js measures both).
//
// The promise is rejected one microtask later, once the caller's `await` (or `catch`) is
// attached: a promise rejected with no handler yet costs Node's unhandled-rejection bookkeeping
// twice (reported, then withdrawn: ~400 ns of the ~2 us a rejection cost), one rejected later
// none. The microtask is a reaction of a resolved promise (Node's queueMicrotask adds ~150 ns
// of async-context bookkeeping); one serves every rejection made before it runs.
function rejectOpen(path) {
  // As withoutStack (lib/errors.js), inline: no closure on this path.
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  let error
  try {
    error = new CircuitOpenError(openMessage(path), path.breaker.name)
  } finally {
    Error.stackTraceLimit = limit
  }
  if (path.stackTrace) Error.captureStackTrace(error, call)
  const promise = new Promise(capture)
  if (pendingRejections.length === 0) resolved.then(rejectPending)
  pendingRejections.push(capturedReject, error)
  return promise
}

// Open-circuit rejections waiting for their microtask: reject function, error, reject, error...
let pendingRejections = []
const resolved = Promise.resolve()

function rejectPending() {
  const list = pendingRejections
  pendingRejections = []
  for (let i = 0; i < list.length; i += 2) list[i](list[i + 1])
}

function openMessage(path) {
  if (path.openMessage === null) path.openMessage = `Circuit breaker '${path.breaker.name}' is OPEN`
  return path.openMessage
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
  // The common case makes no closures: the handlers are cached per breaker.
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

// ---- timed calls ----------------------------------------------------------------------------

/** A call waiting for `fn`'s promise or its deadline: an entry of the wheel (lib/deadline.js). */
class TimedCall {
  constructor(path, token, resolve, reject) {
    this.path = path
    this.token = token
    this.resolve = resolve
    this.reject = reject
    this.bucket = null
    this.index = 0
  }

  // Called by the wheel when the deadline passed first (the call is already out of its bucket).
  expire() {
    const { path } = this
    report(path, this.token, false)
    // The caller is not on the stack when a deadline passes: a stack would show only timer
    // internals, so a timeout carries none.
    const name = path.breaker.name
    const message = `Circuit breaker '${name}' timed out after ${path.timeout} ms`
    this.reject(withoutStack(() => new CircuitTimeoutError(message, name, path.timeout)))
  }
}

// The executor of every timed call's promise: module-level, so that making the promise creates
// no closure; it hands the resolving functions over through these two variables.
let capturedResolve = null
let capturedReject = null
function capture(resolve, reject) {
  capturedResolve = resolve
  capturedReject = reject
}

function timedSettled(timed, value) {
  if (unschedule(timed)) {
    report(timed.path, timed.token, true)
    timed.resolve(value)
  }
}

function timedFailed(timed, error) {
  if (unschedule(timed)) {
    report(timed.path, timed.token, false)
    timed.reject(error)
  }
}

function withTimeout(path, promise, token) {
  const outer = new Promise(capture)
  const timed = new TimedCall(path, token, capturedResolve, capturedReject)
  schedule(timed, path.ticks, path.timeout)
  promise.then(
    (value) => timedSettled(timed, value),
    (error) => timedFailed(timed, error),
  )
  return outer
}

module.exports = { call }
