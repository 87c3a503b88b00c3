'use strict'
// The timer wheel of call deadlines: one per thread (main thread, each worker), shared by every
// breaker of the thread.
//
// No timer per call and no timer per breaker: one interval, running only while timed calls are
// pending, ticks every TICK_MS. A timed call joins the bucket of the tick at which it expires
// (`schedule`) and leaves it in O(1) when it settles first (`unschedule`: the bucket's last entry
// takes its place). With the default 30 s timeout armed on every call, a call through a closed
// circuit costs ~190 ns over a bare `await`, against ~1020 ns for opossum's `setTimeout` per
// call (bench/RESULTS.md).
//
// Deadlines are counted in ticks of real time (not in firings of the interval, which a busy
// event loop delays), so a call never outlives its timeout by more than the interval's lateness.
//
// The wheel knows nothing of breakers: an entry is any object with `bucket` and `index` fields
// (null and 0 before it is scheduled) and an `expire()` method, which the wheel calls once when
// the entry's deadline passes, after taking it out (lib/call.js: a timed call reports a failure
// and rejects with CircuitTimeoutError).
//
// This module imports nothing.

const TICK_MS = 10

const epoch = performance.now()
function clockTick() {
  return Math.floor((performance.now() - epoch) / TICK_MS)
}

let expiredUpTo = 0 // every bucket due at or before this tick has been expired
let timer = null
let pending = 0
const buckets = new Map()
// The bucket the last schedule joined: calls made together mostly share their due tick.
let lastDue = -1
let lastBucket = null

/** Puts `entry` in the bucket of the tick `ticks` ticks from now. */
function schedule(entry, ticks) {
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
  entry.bucket = bucket
  entry.index = bucket.length
  bucket.push(entry)
  pending++
  if (timer === null) {
    // Ref'd on purpose, like any pending deadline: it runs only while timed calls are pending.
    expiredUpTo = clockTick()
    timer = setInterval(onTick, TICK_MS)
  }
}

/** Takes `entry` out of its bucket; false if it already expired. */
function unschedule(entry) {
  const bucket = entry.bucket
  if (bucket === null) return false
  entry.bucket = null
  const last = bucket.pop()
  if (last !== entry) {
    bucket[entry.index] = last
    last.index = entry.index
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

module.exports = { TICK_MS, schedule, unschedule }
