'use strict'
// Call deadlines: one timer wheel per thread (main thread, each worker), shared by every breaker
// of the thread, on real time; and, for calls made while fake timers are installed, a timer of
// the fake clock per call.
//
// The wheel: no timer per call and no timer per breaker. One interval, running only while timed
// calls are pending, ticks every TICK_MS. A timed call joins the bucket of the tick at which it
// expires (`schedule`) and leaves it in O(1) when it settles first (`unschedule`: the bucket's
// last entry takes its place). With the default 30 s timeout armed on every call, a call through
// a closed circuit costs ~100 ns more than without (bench/RESULTS.md, against ~1000 ns for
// opossum's `setTimeout` per call). Deadlines are counted in ticks of the real monotonic clock
// (not in firings of the interval, which a busy event loop delays), so a call never outlives its
// timeout by more than two ticks beyond the interval's lateness, and never times out early.
//
// The clock: a deadline reads the shared deadline clock (lib/clock.js), a word a native thread
// keeps current while any wheel runs, ~6 ns where `performance.now()` costs ~45 ns; it moves on
// while this thread is blocked, so a call made late in a long task counts from when it was made.
// It may lag the exact clock (never lead it) by about a millisecond; every deadline has a tick of
// margin, and each tick of the interval reads the exact clock, expires on it, and, if it saw the
// word lag by more than half a tick (the clock thread starved of CPU), has deadlines read the
// exact clock until it catches up. Settling by marking (leaving settled calls in their buckets
// until the sweep drops the bucket whole) was not kept: with a 30 s deadline every settled call
// would stay reachable for 30 s, gigabytes at millions of calls a second.
//
// Fake timers (jest's, vitest's, @sinonjs/fake-timers, see lib/clock.js): the wheel never uses
// them. It reads real time and starts its interval with the real `setInterval`, even when the
// package was loaded while fake timers were installed; so switching fake timers on never stalls
// a deadline on real time, and no interval of a fake clock is ever left holding one. A call made
// while a fake clock is installed is timed by that clock instead, to the millisecond as opossum's
// `setTimeout` is: `advanceTimersByTime(timeout)` times it out. If that clock is uninstalled
// before the call settles, the next timed call moves its deadline to the wheel with the time it
// had left.
//
// The wheel knows nothing of breakers: an entry is any object with `bucket` and `index` fields
// (null and 0 before it is scheduled) and an `expire()` method, which is called once when the
// entry's deadline passes, after taking it out (lib/call.js: a timed call reports a failure and
// rejects with CircuitTimeoutError).
//
// Imports: lib/clock.js.

const { fakeClock, fakeNow, realTimers, coarseNow, keepClock, runClock } = require('./clock.js')

const TICK_MS = 10

let timer = null
let clearTimer = null // the real clearInterval, kept with the interval it clears
let expiredUpTo = 0 // every bucket due at or before this tick has been expired
let pending = 0
const buckets = new Map()
// The bucket the last schedule joined: calls made together mostly share their due tick.
let lastDue = -1
let lastBucket = null

// Calls timed by a fake clock: the bucket they are in, the clock, and entry -> { timer, due }.
const FAKE = Object.freeze([])
let fakeTimedBy
const fakeTimed = new Map()

// True while the shared clock was last seen lagging the exact clock by more than half a tick
// (its thread starved of CPU): deadlines then read the exact clock, so that none is set early.
let lagging = false

// The tick a deadline counts from: on the shared clock, which may lag the exact one (never lead
// it); `schedule` adds a tick of margin, so a lag under a tick never makes a deadline early.
function scheduleTick() {
  return Math.floor((lagging ? keepClock() : coarseNow()) / TICK_MS)
}

// The exact tick, from `exact` (the exact clock read after `coarse`, the shared one).
function exactTick(coarse, exact) {
  lagging = exact - coarse > TICK_MS / 2
  return Math.floor(exact / TICK_MS)
}

/** Times `entry` out `ms` milliseconds from now (`ticks` ticks of the wheel). */
function schedule(entry, ticks, ms) {
  const clock = fakeClock()
  if (fakeTimed.size !== 0 && clock !== fakeTimedBy) moveFakeTimed()
  if (clock !== undefined) {
    scheduleFake(clock, entry, ms)
    return
  }
  if (timer === null) start()
  const due = scheduleTick() + ticks
  let bucket = lastBucket
  if (due !== lastDue || bucket === null) {
    bucket = buckets.get(due)
    if (bucket === undefined) {
      bucket = []
      buckets.set(due, bucket)
    }
    lastDue = due
    lastBucket = bucket
  }
  entry.bucket = bucket
  entry.index = bucket.length
  bucket.push(entry)
  pending++
}

// Ref'd on purpose, like any pending deadline: it runs only while timed calls are pending.
function start() {
  const { setInterval, clearInterval } = realTimers()
  // The word was just refreshed (its thread may have been parked): it does not lag.
  const exact = runClock(true)
  expiredUpTo = exactTick(exact, exact)
  clearTimer = clearInterval
  timer = setInterval(onTick, TICK_MS)
}

/** Takes `entry` out of its bucket; false if it already expired. */
function unschedule(entry) {
  const bucket = entry.bucket
  if (bucket === null) return false
  entry.bucket = null
  if (bucket === FAKE) {
    const timed = fakeTimed.get(entry)
    fakeTimed.delete(entry)
    fakeTimedBy.clearTimeout(timed.timer)
    return true
  }
  const last = bucket.pop()
  if (last !== entry) {
    bucket[entry.index] = last
    last.index = entry.index
  }
  pending--
  return true
}

function onTick() {
  const coarse = coarseNow()
  const now = exactTick(coarse, keepClock())
  while (expiredUpTo < now && pending > 0) {
    expiredUpTo++
    const expired = buckets.get(expiredUpTo)
    if (expired !== undefined) expire(expired)
  }
  if (pending === 0) {
    clearTimer(timer)
    timer = null
    runClock(false)
    buckets.clear()
    lastDue = -1
    lastBucket = null
  }
}

// Expires the bucket due at `expiredUpTo`.
function expire(expired) {
  buckets.delete(expiredUpTo)
  if (expired === lastBucket) {
    lastDue = -1
    lastBucket = null
  }
  for (const entry of expired) {
    entry.bucket = null
    pending--
    entry.expire()
  }
}

function scheduleFake(clock, entry, ms) {
  fakeTimedBy = clock
  const timer = clock.setTimeout(() => {
    if (fakeTimed.delete(entry)) {
      entry.bucket = null
      entry.expire()
    }
  }, ms)
  fakeTimed.set(entry, { timer, due: fakeNow(clock) + ms })
  entry.bucket = FAKE
}

// The fake clock that timed the pending fake entries is gone (or another one was installed):
// each moves to whatever times calls now, keeping the time it had left.
function moveFakeTimed() {
  const from = fakeTimedBy
  const now = fakeNow(from)
  const moving = [...fakeTimed]
  fakeTimed.clear()
  for (const [entry, { timer, due }] of moving) {
    from.clearTimeout(timer)
    entry.bucket = null
    const left = Math.max(due - now, 0)
    schedule(entry, Math.ceil(left / TICK_MS) + 1, left)
  }
}

module.exports = { TICK_MS, schedule, unschedule }
