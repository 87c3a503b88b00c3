'use strict'
// Shared helpers of the behaviour specs (not a spec file itself: ava only runs *.spec.js).

const { CircuitBreaker } = require('../resilience.js')

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

let counter = 0
/** A breaker name no other test (or test file) uses. */
function uniqueName(prefix = 'cb') {
  counter += 1
  return `${prefix}-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}`
}

/** A promise plus its resolve / reject, to hold a call in flight. */
function deferred() {
  let resolve
  let reject
  const promise = new Promise((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** Never throws: what the promise settled with. */
async function settle(promise) {
  try {
    return { status: 'fulfilled', value: await promise }
  } catch (reason) {
    return { status: 'rejected', reason }
  }
}

/** Sends `n` synchronously failing calls through `cb` and waits for them. */
async function failTimes(cb, n, error = new Error('planned failure')) {
  for (let i = 0; i < n; i++) {
    await settle(cb.call(() => {
      throw error
    }))
  }
}

/** Sends `n` synchronously succeeding calls through `cb` and waits for them. */
async function succeedTimes(cb, n) {
  for (let i = 0; i < n; i++) {
    await cb.call(() => i)
  }
}

/**
 * Margin added to a reset timeout before expecting the next call to half-open the circuit:
 * the Rust clock is coarse (a few ms) and the machine may be loaded by other test files.
 */
const RESET_MARGIN = 60

/**
 * A breaker that is OPEN with its reset timeout elapsed, so that its next call is a half-open
 * probe. `options` may override anything but must keep failureThreshold reachable in one call.
 */
async function readyToProbe(prefix, options = {}) {
  const resetTimeout = options.resetTimeout ?? 25
  const cb = new CircuitBreaker(uniqueName(prefix), {
    failureThreshold: 1,
    successThreshold: 1,
    halfOpenMaxCalls: 1,
    timeout: false,
    ...options,
    resetTimeout,
  })
  await failTimes(cb, cb.options.failureThreshold)
  if (cb.state !== 'OPEN') throw new Error(`expected OPEN, got ${cb.state}`)
  await sleep(resetTimeout + RESET_MARGIN)
  return cb
}

/** Metrics minus totalOpenTimeMs, which grows between two snapshots of an open breaker. */
function withoutOpenTime(m) {
  const { totalOpenTimeMs, ...rest } = m
  return rest
}

function sumOfParts(m) {
  return m.successfulCalls + m.failedCalls + m.rejectedCalls
}

module.exports = {
  sleep,
  uniqueName,
  deferred,
  settle,
  failTimes,
  succeedTimes,
  readyToProbe,
  sumOfParts,
  withoutOpenTime,
  RESET_MARGIN,
}
