'use strict'
// The per-call timeout must be a deadline in time. These tests make the event loop lag (as a
// busy trading process does) and check that a fn which settles well after its deadline still
// gets CircuitTimeoutError. Serial: blocking the loop must not disturb other tests in this file.
const test = require('ava')
const { CircuitBreaker, CircuitTimeoutError } = require('../resilience.js')
const { sleep, uniqueName, settle } = require('./_helpers.js')

function busyWait(ms) {
  const end = Date.now() + ms
  while (Date.now() < end) {
    // burn CPU: the event loop is blocked
  }
}

test.serial('a blocked event loop does not stretch the timeout: fn settling 100 ms after its deadline times out', async (t) => {
  const cb = new CircuitBreaker(uniqueName('deadline-block'), { timeout: 50 })
  const started = Date.now()
  const result = settle(cb.call(() => new Promise((resolve) => setTimeout(resolve, 150, 'late'))))
  busyWait(250) // both the deadline (50 ms) and fn's result (150 ms) are due when the loop wakes up
  const { status, value, reason } = await result
  t.log(`settled ${status} ${String(value ?? reason)} after ${Date.now() - started} ms`)
  t.is(status, 'rejected', 'the deadline (50 ms) came before fn settled (150 ms)')
  t.true(reason instanceof CircuitTimeoutError)
  await sleep(50)
  t.like(cb.getMetrics(), { totalCalls: 1, failedCalls: 1, successfulCalls: 0 })
})

test.serial('a busy event loop does not stretch the timeout: 50 ms timeout, fn settles after 150 ms', async (t) => {
  const cb = new CircuitBreaker(uniqueName('deadline-busy'), { timeout: 50 })
  const started = Date.now()
  const result = settle(cb.call(() => new Promise((resolve) => setTimeout(resolve, 150, 'late'))))
  // Other work keeps the loop busy: tasks of 40 ms back to back for ~400 ms.
  await new Promise((resolve) => {
    const step = () => {
      busyWait(40)
      if (Date.now() - started < 400) setImmediate(step)
      else resolve()
    }
    setImmediate(step)
  })
  const { status, value, reason } = await result
  t.log(`settled ${status} ${String(value ?? reason)} after ${Date.now() - started} ms`)
  t.is(status, 'rejected', 'fn settled ~100 ms after its 50 ms deadline')
  t.true(reason instanceof CircuitTimeoutError)
})

test.serial('an idle event loop: the timeout fires close to its deadline, never before it', async (t) => {
  const cb = new CircuitBreaker(uniqueName('deadline-idle'), { timeout: 60 })
  const started = Date.now()
  const { reason } = await settle(cb.call(() => new Promise(() => {})))
  const elapsed = Date.now() - started
  t.true(reason instanceof CircuitTimeoutError)
  t.true(elapsed >= 55, `not early: ${elapsed} ms`)
})
