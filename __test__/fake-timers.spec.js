'use strict'
// Breakers under fake timers (@sinonjs/fake-timers, the clock jest's modern timers and vitest
// install): deadlines and reset timeouts follow the fake clock, installed before or after the
// package loads and switched on and off while calls are pending; no call throws synchronously
// and no interval is left running. Each ava file runs in its own process, so moving breaker time
// forward here (as fake time advances) touches no other file's breakers.

const test = require('ava')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const FakeTimers = require('@sinonjs/fake-timers')
const { CircuitBreaker, CircuitTimeoutError, CircuitOpenError } = require('../resilience.js')
const { uniqueName, settle } = require('./_helpers.js')

const never = () => new Promise(() => {})

test.serial('a call made under fake timers installed after load times out on fake time', async (t) => {
  const clock = FakeTimers.install()
  try {
    const cb = new CircuitBreaker(uniqueName('fake-deadline'), { timeout: 1000 })
    const pending = settle(cb.call(never))
    await clock.tickAsync(999)
    const early = await Promise.race([pending, Promise.resolve('pending')])
    t.is(early, 'pending')
    await clock.tickAsync(20)
    const { status, reason } = await pending
    t.is(status, 'rejected')
    t.true(reason instanceof CircuitTimeoutError)
  } finally {
    clock.uninstall()
  }
})

test.serial('a loop over timeouts under fake timers never throws synchronously', async (t) => {
  const clock = FakeTimers.install()
  try {
    const cb = new CircuitBreaker(uniqueName('fake-loop'), { timeout: 50, failureThreshold: 1000 })
    for (let i = 0; i < 50; i++) {
      let promise
      t.notThrows(() => {
        promise = cb.call(never)
      })
      await clock.tickAsync(60)
      const { reason } = await settle(promise)
      t.true(reason instanceof CircuitTimeoutError)
    }
  } finally {
    clock.uninstall()
  }
})

test.serial('resetTimeout follows the fake clock: OPEN, then HALF_OPEN, then CLOSED', async (t) => {
  const clock = FakeTimers.install()
  try {
    const cb = new CircuitBreaker(uniqueName('fake-reset'), {
      failureThreshold: 1,
      successThreshold: 2,
      resetTimeout: 60000,
    })
    await settle(cb.call(() => Promise.reject(new Error('down'))))
    t.is(cb.state, 'OPEN')
    await clock.tickAsync(30000)
    t.true((await settle(cb.call(() => 1))).reason instanceof CircuitOpenError)
    await clock.tickAsync(31000)
    t.is(await cb.call(() => 1), 1)
    t.is(cb.state, 'HALF_OPEN')
    t.is(await cb.call(() => 2), 2)
    t.is(cb.state, 'CLOSED')
  } finally {
    clock.uninstall()
  }
})

test.serial('a fake clock installed after the circuit opened counts from its installation', async (t) => {
  const cb = new CircuitBreaker(uniqueName('fake-late'), { failureThreshold: 1, successThreshold: 1, resetTimeout: 60000 })
  await settle(cb.call(() => Promise.reject(new Error('down'))))
  t.is(cb.state, 'OPEN')
  const clock = FakeTimers.install()
  try {
    clock.tick(60001)
    t.is(await cb.call(() => 'probe'), 'probe')
    t.is(cb.getState(), 'CLOSED')
  } finally {
    clock.uninstall()
  }
})

test.serial('switching fake timers on and off with calls pending: every call settles, none hangs', async (t) => {
  const cb = new CircuitBreaker(uniqueName('fake-switch'), { timeout: 100, failureThreshold: 1000 })
  const real = settle(cb.call(never)) // timed on real time, whatever is installed later
  const clock = FakeTimers.install()
  let stranded
  try {
    const fake = settle(cb.call(never)) // timed by the fake clock, to the millisecond
    await clock.tickAsync(99)
    t.is(await Promise.race([fake, Promise.resolve('pending')]), 'pending')
    await clock.tickAsync(1)
    t.true((await fake).reason instanceof CircuitTimeoutError)
    stranded = settle(cb.call(never)) // its fake clock is uninstalled before its deadline
    await clock.tickAsync(50)
  } finally {
    clock.uninstall()
  }
  t.true((await real).reason instanceof CircuitTimeoutError)
  const late = settle(cb.call(never)) // back on real time: takes the stranded call along
  t.true((await late).reason instanceof CircuitTimeoutError)
  t.true((await stranded).reason instanceof CircuitTimeoutError)
})

test('a process that used a breaker under fake timers exits by itself (installed before and after load)', (t) => {
  for (const order of ['before', 'after']) {
    const script = `
      const FakeTimers = require(${JSON.stringify(require.resolve('@sinonjs/fake-timers'))})
      let clock
      if (${JSON.stringify(order)} === 'before') clock = FakeTimers.install()
      const { CircuitBreaker } = require(${JSON.stringify(path.join(__dirname, '..', 'resilience.js'))})
      if (!clock) clock = FakeTimers.install()
      const cb = new CircuitBreaker('exit', { timeout: 1000 })
      cb.call(() => new Promise((resolve) => setTimeout(resolve, 10))).then(() => {
        clock.uninstall()
        console.log('settled')
      })
      clock.tick(20)
    `
    const run = spawnSync(process.execPath, ['-e', script], { timeout: 20000, encoding: 'utf8' })
    t.is(run.status, 0, `${order}: ${run.stderr}`)
    t.is(run.stdout.trim(), 'settled', order)
  }
})
