'use strict'
// Time under fake timers. jest's modern timers, vitest's and @sinonjs/fake-timers all install a
// sinon clock, and mark every timer function they replace with it (`setInterval.clock`). While
// one is installed:
//
// - a call made meanwhile is timed by that clock (lib/deadline.js), so
//   `advanceTimersByTime(timeout)` times it out; the deadlines of other calls stay on real time
//   (`realNow`, `realTimers`);
// - the breakers' own time (when an open circuit may half-open) follows it: `followFakeTime()`,
//   called before every native operation that reads the time (the methods and getters of the
//   classes, lib/receiver.js; the call path's native half, lib/call.js), reports how far the
//   fake clock moved since it last looked, and the binding moves every breaker's clock forward
//   as far (`MonotonicClock::skip` in the core). So `advanceTimersByTime(resetTimeout)` lets the
//   next call through as a probe. Time only moves forward: a fake clock installed anew counts
//   from its installation, and uninstalling it leaves breaker time where it was.
//
// With real timers `followFakeTime()` returns after one property read. Domain calls' own
// deadlines (in Rust) stay on real time.
//
// Imports: the generated loader (../index.js).

const { __skipTime: skipTime } = require('../index.js')

/** The sinon clock behind the global timers, or undefined with real timers. */
function fakeClock() {
  const clock = globalThis.setInterval?.clock
  return clock !== null && typeof clock === 'object' && typeof clock.now === 'number' ? clock : undefined
}

/** Milliseconds of `clock` since it was installed (immune to `setSystemTime`). */
function fakeNow(clock) {
  const performance = clock.performance
  return performance !== undefined && typeof performance.now === 'function' ? performance.now() : clock.now
}

// The real monotonic clock, read through the prototype's method: sinon also replaces `now` on
// Node's own `performance` object while it is installed, and a deadline set on real time must
// keep counting real time when fake timers are switched on.
const nodePerformance = require('node:perf_hooks').performance
const performanceNow = Object.getPrototypeOf(nodePerformance).now
function realNow() {
  return Reflect.apply(performanceNow, nodePerformance, [])
}

/** The real `setInterval` and `clearInterval`, even while fake timers replace the global ones
 * (sinon keeps the originals on its clock as `_setInterval` / `_clearInterval`). */
function realTimers() {
  const clock = fakeClock()
  if (clock !== undefined && typeof clock._setInterval === 'function' && typeof clock._clearInterval === 'function') {
    return { setInterval: clock._setInterval, clearInterval: clock._clearInterval }
  }
  return { setInterval: globalThis.setInterval, clearInterval: globalThis.clearInterval }
}

let seen // the fake clock last looked at
let reported = 0 // its time already reported to the binding

/** Moves breaker time forward by however far the installed fake clock moved. */
function followFakeTime() {
  const clock = fakeClock()
  if (clock === undefined) return
  if (clock !== seen) {
    seen = clock
    reported = 0
  }
  const now = fakeNow(clock)
  const whole = Math.floor(now - reported)
  if (whole >= 1) {
    reported += whole
    skipTime(whole)
  } else if (now < reported) {
    reported = now // set back: count from here
  }
}

module.exports = { fakeClock, fakeNow, realNow, realTimers, followFakeTime }
