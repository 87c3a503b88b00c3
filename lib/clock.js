'use strict'
// Time under fake timers. jest's modern timers, vitest's and @sinonjs/fake-timers all install a
// sinon clock, and mark every timer function they replace with it (`setInterval.clock`). While
// one is installed:
//
// - a call made meanwhile is timed by that clock (lib/deadline.js), so
//   `advanceTimersByTime(timeout)` times it out; the deadlines of other calls stay on real time
//   (the deadline clock below, `realTimers`);
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

const {
  __skipTime: skipTime,
  __clockWords: clockWords,
  __clockKeep: clockKeep,
  __clockRun: clockRun,
} = require('../index.js')

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

// The deadline clock (src/breaker/coarse_clock.rs): milliseconds on a process-wide scale, kept
// in shared memory by a native thread while some timer wheel runs (`runClock(true)` /
// `runClock(false)`), read here as a `Float64Array` element (~6 ns) instead of
// `performance.now()` (~45 ns in Node 20). `keepClock()` returns the exact time on the same
// scale (a native call, ~100 ns). Where external buffers are forbidden, every read is exact.
// Neither is touched by fake timers.
let clockView = null
try {
  clockView = new Float64Array(clockWords())
} catch {
  clockView = null
}

/** The deadline clock as kept in shared memory: never ahead of `keepClock()`, behind it by the
 * clock thread's lag (about a millisecond while it runs; it parks while no wheel runs). */
function coarseNow() {
  const view = clockView
  return view === null ? clockKeep() : view[0]
}

/** The exact time on the deadline clock's scale (and the shared word refreshed). */
function keepClock() {
  return clockKeep()
}

/** A timer wheel starts (`true`) or stops: the clock thread ticks while any wheel runs.
 * Returns the exact time, as `keepClock()`. */
function runClock(running) {
  return clockRun(running ? 1 : -1)
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

module.exports = { fakeClock, fakeNow, realTimers, followFakeTime, coarseNow, keepClock, runClock }
